import ModelIO
import SentenceModels
import TensorCore
import Tokenization
import XCTest

/// The README's library example, run on the tiny trained SVAE: it must compile and reconstruct.
final class LibraryUsageTests: XCTestCase {
    func testReadmeExampleReconstructsTrainingSentences() throws {
        let dir = CommandRunner.fixture("tiny-opt")
        let reference = try OPTConfig(contentsOf: dir + "/config.json")
        let svae = try SentenceVAE(config: SentenceVAEConfiguration(reference: reference, layers: 1,
                                                                     learnableAdd: false, maxSequenceLength: 32))
        try svae.load(stateDict: loadStateDict(path: CommandRunner.fixture("svae-tiny.pth")))
        let tokenizer = try Tokenizer.load(directory: dir)
        let sentences = ["Some may ask why I committed such a rash act.", "Exactly; I have never amounted to much."]
        let batch = try TokenBatch(sequences: sentences.map { tokenizer.encode($0) }, padId: 1)
        let vectors = try withNoGrad { try svae.encoder(batch) }
        let decoder = SentenceDecoderGenerator(decoder: svae.decoder)
        for (i, sentence) in sentences.enumerated() {
            let ids = try decoder.generate(memory: vectors.data + i * reference.hiddenSize,
                                           sampler: Sampler(options: .greedy, vocabulary: reference.vocabSize))
            XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), sentence)
        }
    }
}
