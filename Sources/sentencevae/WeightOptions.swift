import ArgumentParser
import SentenceModels
import TensorCore

extension WeightFormat: ExpressibleByArgument {}

/// `--weights f32|bf16|q8`: how the inference commands keep the big matrices (compute stays fp32).
struct WeightOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Weight storage for inference: f32, bf16 or q8 (int8, a scale per block of 32). Compute stays fp32. Default: f32; for the default models, the format their files hold.",
        discussion: "bf16 halves and q8 roughly quarters the bytes read per token. Any checkpoint is converted at load; a file made by `sentencevae convert` in the same format is read in place."))
    var weights: WeightFormat?

    /// The format to load in: the one asked for, else `fallback` (f32, or what a default model's file holds).
    func format(or fallback: WeightFormat = .f32) -> WeightFormat { weights ?? fallback }

    /// Tells the user what was loaded, on standard error (nothing for plain fp32).
    func report(_ loaded: InferenceWeights) {
        if loaded.format != .f32 { warn(loaded.summary) }
    }
}
