import XCTest
@testable import TensorCore

/// The choice of OpenBLAS kernels from CPU facts (fed with real /proc/cpuinfo flag lists of CPUs this
/// machine is not), the start-up decision, the /proc/cpuinfo parser and the product self-check.
final class BLASCoreTests: XCTestCase {
    /// Intel Sapphire Rapids as a cloud VM shows it (GCP C3 / AWS m7i class; family 6 model 143).
    static let sapphireRapidsFlags = """
    fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx \
    pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq \
    ssse3 fma cx16 pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor \
    lahf_lm abm 3dnowprefetch invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 \
    erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt \
    xsavec xgetbv1 xsaves avx_vnni avx512_bf16 wbnoinvd arat avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes \
    vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq rdpid cldemote movdiri movdir64b md_clear serialize \
    tsxldtrk amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities
    """
    /// AMD EPYC 9004 (Zen 4, "Genoa", family 25 model 17) on bare metal: AVX-512 included.
    static let zen4Flags = """
    fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx \
    mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good amd_lbr_v2 nopl nonstop_tsc cpuid extd_apicid aperfmperf \
    rapl pni pclmulqdq monitor ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm \
    cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core \
    perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 invpcid_single hw_pstate ssbd mba perfmon_v2 ibrs ibpb stibp \
    ibrs_enhanced vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma \
    clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc \
    cqm_mbm_total cqm_mbm_local avx512_bf16 clzero irperf xsaveerptr rdpru wbnoinvd amd_ppin cppc arat npt lbrv \
    svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif \
    x2avic v_spec_ctrl vnmi avx512vbmi umip pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg \
    avx512_vpopcntdq la57 rdpid overflow_recov succor smca fsrm flush_l1d
    """
    /// Intel Haswell (Xeon E5 v3, family 6 model 63): AVX2 and FMA, no AVX-512.
    static let haswellFlags = """
    fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm \
    pbe syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid \
    aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 \
    x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm cpuid_fault epb invpcid_single pti \
    tpr_shadow vnmi flexpriority ept vpid fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid cqm xsaveopt cqm_llc \
    cqm_occup_llc dtherm ida arat pln pts
    """

    static func facts(_ vendor: String, _ family: Int, _ model: Int, _ flags: String) -> CPUFeatures {
        CPUFeatures(vendor: vendor, family: family, model: model, flags: Set(flags.split(separator: " ").map(String.init)))
    }
    let sapphireRapids = facts("GenuineIntel", 6, 143, sapphireRapidsFlags)
    let zen4 = facts("AuthenticAMD", 25, 17, zen4Flags)
    let haswell = facts("GenuineIntel", 6, 63, haswellFlags)

    /// The one-line CPU description that benchmark output starts with.
    func testSummaryNamesFamilyModelAndVectorWidth() {
        XCTAssertEqual(sapphireRapids.summary, "(GenuineIntel family 6 model 143; AVX-512 at full width)")
        XCTAssertEqual(zen4.summary, "(AuthenticAMD family 25 model 17; AVX-512 in 256-bit halves)")
        var named = haswell
        named.modelName = "Intel(R) Xeon(R) CPU E5-2680 v3"
        XCTAssertEqual(named.summary, "Intel(R) Xeon(R) CPU E5-2680 v3 (GenuineIntel family 6 model 63; AVX2+FMA)")
    }

    func testSapphireRapidsGetsSkylakeXKernels() {
        XCTAssertTrue(sapphireRapids.hasSkylakeXAVX512)
        for weaker in ["Prescott", "Nehalem", "Sandybridge", "Haswell", "Core2", "Unknown"] {
            XCTAssertEqual(BLASCore.preferredCoreType(picked: weaker, facts: sapphireRapids), "SkylakeX", weaker)
        }
        for good in ["SkylakeX", "Cooperlake", "SapphireRapids"] {
            XCTAssertNil(BLASCore.preferredCoreType(picked: good, facts: sapphireRapids), good)
        }
    }

    func testZen4IsLeftAloneWhenOpenBLASSaysZen() {
        XCTAssertTrue(zen4.hasSkylakeXAVX512)
        XCTAssertNil(BLASCore.preferredCoreType(picked: "Zen", facts: zen4))
        XCTAssertNil(BLASCore.preferredCoreType(picked: "SkylakeX", facts: zen4))
        // An AMD CPU OpenBLAS did not recognise gets the Zen kernels, not Intel's AVX-512 ones.
        XCTAssertEqual(BLASCore.preferredCoreType(picked: "Prescott", facts: zen4), "Zen")
        // This machine: Zen 4 in a VM that hides AVX-512.
        if let here = CPUFeatures.current(), here.isAMD, BLASCore.coreName == "Zen" {
            XCTAssertNil(BLASCore.preferredCoreType(picked: "Zen", facts: here))
        }
    }

    /// Who then computes products of many rows (`BLAS.prefersOwnSgemm`), from the core OpenBLAS ends
    /// up on and the width of our tiles: Sapphire Rapids → our 512-bit tiles, whatever core OpenBLAS
    /// runs; with our AVX2 tiles only (`SENTENCEVAE_AVX2_KERNELS=1`) → OpenBLAS on SkylakeX (twice
    /// our FMA peak), ours where it was left on Debian's "Prescott"; Zen 4 on OpenBLAS's "Zen" (AVX2
    /// kernels, AVX-512 hidden by the VM) or its own pick "Cooperlake" (AVX-512 run in 256-bit
    /// halves) → our AVX2 tiles; Zen 5 → our 512-bit tiles; no AVX2+FMA → OpenBLAS.
    func testWhoComputesManyRowProducts() {
        #if !canImport(Accelerate)
        XCTAssertTrue(sapphireRapids.runsAVX512AtFullWidth)
        XCTAssertFalse(zen4.runsAVX512AtFullWidth)
        XCTAssertFalse(haswell.runsAVX512AtFullWidth)
        for picked in ["Prescott", "Haswell", "SkylakeX"] {
            let core = BLASCore.preferredCoreType(picked: picked, facts: sapphireRapids) ?? picked
            XCTAssertTrue(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: true, blasCore: core, cpu: sapphireRapids), picked)
            XCTAssertFalse(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: false, blasCore: core, cpu: sapphireRapids), picked)
        }
        XCTAssertTrue(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: false, blasCore: "Prescott", cpu: sapphireRapids))
        for picked in ["Zen", "Prescott", "Cooperlake", "SkylakeX"] {
            let core = BLASCore.preferredCoreType(picked: picked, facts: zen4) ?? picked
            XCTAssertTrue(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: false, blasCore: core, cpu: zen4), picked)
        }
        let zen5 = Self.facts("AuthenticAMD", 26, 2, Self.zen4Flags)
        XCTAssertTrue(zen5.runsAVX512AtFullWidth)
        XCTAssertTrue(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: true, blasCore: "Cooperlake", cpu: zen5))
        XCTAssertFalse(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: false, blasCore: "SkylakeX", cpu: nil))
        XCTAssertFalse(BLAS.prefersOwnSgemm(nativeKernels: false, wideKernels: false, blasCore: "Zen", cpu: zen4))
        XCTAssertFalse(BLAS.prefersOwnSgemm(nativeKernels: false, wideKernels: true, blasCore: "SkylakeX", cpu: sapphireRapids))
        // The one-row products' 512-bit kernels (and the few-rows product beside the BLAS's) follow the
        // same fact: Sapphire Rapids and Zen 5 yes, Zen 4 and Haswell no, unknown no, and never when
        // the user keeps the AVX2 ones.
        XCTAssertTrue(NativeKernels.prefersAVX512(cpu: sapphireRapids, environment: [:]))
        XCTAssertTrue(NativeKernels.prefersAVX512(cpu: zen5, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersAVX512(cpu: zen4, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersAVX512(cpu: haswell, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersAVX512(cpu: nil, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersAVX512(cpu: sapphireRapids, environment: ["SENTENCEVAE_AVX2_KERNELS": "1"]))
        // bf16's one-row AVX-512 kernel is for AVX-512 in halves only: Zen 4 yes; Sapphire Rapids and
        // Zen 5 (the four-stream kernels), Haswell, unknown, and the user's AVX2 choice no.
        XCTAssertTrue(NativeKernels.prefersOneRowBF16AVX512(cpu: zen4, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersOneRowBF16AVX512(cpu: sapphireRapids, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersOneRowBF16AVX512(cpu: zen5, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersOneRowBF16AVX512(cpu: haswell, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersOneRowBF16AVX512(cpu: nil, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersOneRowBF16AVX512(cpu: zen4, environment: ["SENTENCEVAE_AVX2_KERNELS": "1"]))
        // q8's integer kernel: the same CPUs as bf16's one-row kernel, and only with AVX-512 VNNI.
        XCTAssertTrue(NativeKernels.prefersQ8VNNI(cpu: zen4, environment: [:]))
        var zen4WithoutVNNI = zen4
        zen4WithoutVNNI.flags.remove("avx512_vnni")
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: zen4WithoutVNNI, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: sapphireRapids, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: zen5, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: haswell, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: nil, environment: [:]))
        XCTAssertFalse(NativeKernels.prefersQ8VNNI(cpu: zen4, environment: ["SENTENCEVAE_AVX2_KERNELS": "1"]))
        XCTAssertTrue(BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: false, blasCore: nil, cpu: nil))
        #endif
    }

    /// Small products leave our packed path for the BLAS only where its AVX-512 kernels run at full
    /// width, and never a Linear weight against at most 256 rows (our few-rows tile reads it in place).
    func testSmallProductsGoToAFullWidthBLAS() {
        XCTAssertTrue(BLAS.smallProductGoesToBLAS(m: 24, n: 24, k: 64, transA: false, transB: false, blasFullWidthAVX512: true))
        XCTAssertTrue(BLAS.smallProductGoesToBLAS(m: 64, n: 24, k: 24, transA: true, transB: false, blasFullWidthAVX512: true))
        XCTAssertTrue(BLAS.smallProductGoesToBLAS(m: 300, n: 8, k: 8, transA: false, transB: true, blasFullWidthAVX512: true))
        XCTAssertFalse(BLAS.smallProductGoesToBLAS(m: 24, n: 24, k: 64, transA: false, transB: true, blasFullWidthAVX512: true))
        // A weight too long for the few-rows path's buffers would be packed, so it goes too.
        XCTAssertTrue(BLAS.smallProductGoesToBLAS(m: 2, n: 4, k: 70_000, transA: false, transB: true, blasFullWidthAVX512: true))
        XCTAssertFalse(BLAS.smallProductGoesToBLAS(m: 128, n: 64, k: 128, transA: false, transB: false, blasFullWidthAVX512: true))
        XCTAssertFalse(BLAS.smallProductGoesToBLAS(m: 24, n: 24, k: 64, transA: false, transB: false, blasFullWidthAVX512: false))
    }

    func testAVX2OnlyGetsHaswellAndOtherArchitecturesAreNotTouched() {
        XCTAssertFalse(haswell.hasSkylakeXAVX512)
        XCTAssertEqual(BLASCore.preferredCoreType(picked: "Prescott", facts: haswell), "Haswell")
        XCTAssertEqual(BLASCore.preferredCoreType(picked: "Sandybridge", facts: haswell), "Haswell")
        XCTAssertNil(BLASCore.preferredCoreType(picked: "Haswell", facts: haswell))
        var avxOnly = haswell
        avxOnly.flags.subtract(["avx2", "fma"])
        XCTAssertEqual(BLASCore.preferredCoreType(picked: "Nehalem", facts: avxOnly), "Sandybridge")
        var sse = haswell
        sse.flags.subtract(["avx", "avx2", "fma"])
        XCTAssertNil(BLASCore.preferredCoreType(picked: "Prescott", facts: sse))
        XCTAssertNil(BLASCore.preferredCoreType(picked: "NEOVERSEN1", facts: sapphireRapids))
    }

    func testFallbacks() {
        XCTAssertEqual(BLASCore.fallbackCoreType(failing: "SkylakeX", facts: sapphireRapids), "Haswell")
        XCTAssertEqual(BLASCore.fallbackCoreType(failing: "Haswell", facts: sapphireRapids), "Prescott")
        XCTAssertEqual(BLASCore.fallbackCoreType(failing: "Zen", facts: zen4), "Prescott")
        XCTAssertNil(BLASCore.fallbackCoreType(failing: "Prescott", facts: zen4))
    }

    static let passing = BLASCore.SelfCheckResult(passed: true, maxRelativeError: 1e-8)
    static let failing = BLASCore.SelfCheckResult(passed: false, maxRelativeError: 0.5)

    func testStartupOnSapphireRapidsReexecsOnceAndFallsBackOnWrongResults() {
        // Debian's OpenBLAS picked Prescott; nobody set anything: re-exec with SkylakeX, no check needed.
        var checked = false
        XCTAssertEqual(BLASCore.startupAction(environment: [:], picked: "Prescott", facts: sapphireRapids) { checked = true; return Self.passing },
                       .reexec(coreType: "SkylakeX", tried: "SkylakeX", warning: nil))
        XCTAssertFalse(checked)
        // The re-executed process: SkylakeX loaded and correct → keep, silently.
        let child = ["OPENBLAS_CORETYPE": "SkylakeX", BLASCore.guardVariable: "SkylakeX"]
        XCTAssertEqual(BLASCore.coreOrigin(environment: child), .sentencevae)
        XCTAssertEqual(BLASCore.startupAction(environment: child, picked: "SkylakeX", facts: sapphireRapids) { Self.passing }, .keep(warning: nil))
        // SkylakeX computes wrong products → Haswell, then Prescott, then give up with a warning.
        guard case .reexec("Haswell", "SkylakeX,Haswell", let warning?) = BLASCore.startupAction(environment: child, picked: "SkylakeX", facts: sapphireRapids, selfCheck: { Self.failing }) else {
            return XCTFail("expected a fallback to Haswell")
        }
        XCTAssertTrue(warning.contains("SkylakeX") && warning.contains("OPENBLAS_CORETYPE"), warning)
        let grandchild = ["OPENBLAS_CORETYPE": "Haswell", BLASCore.guardVariable: "SkylakeX,Haswell"]
        guard case .reexec("Prescott", "SkylakeX,Haswell,Prescott", _) = BLASCore.startupAction(environment: grandchild, picked: "Haswell", facts: sapphireRapids, selfCheck: { Self.failing }) else {
            return XCTFail("expected a fallback to Prescott")
        }
        let last = ["OPENBLAS_CORETYPE": "Prescott", BLASCore.guardVariable: "SkylakeX,Haswell,Prescott"]
        guard case .keep(let warning?) = BLASCore.startupAction(environment: last, picked: "Prescott", facts: sapphireRapids, selfCheck: { Self.failing }) else {
            return XCTFail("expected a warning and no re-exec")
        }
        XCTAssertTrue(warning.contains("no safer core"), warning)
        // After falling back to Prescott on an AVX2 machine, the upgrade logic must not undo it.
        let fellBack = ["OPENBLAS_CORETYPE": "Prescott", BLASCore.guardVariable: "Prescott"]
        XCTAssertEqual(BLASCore.startupAction(environment: fellBack, picked: "Prescott", facts: haswell) { Self.passing }, .keep(warning: nil))
        // OpenBLAS ignored the name we set (picked stays Haswell): no second try of the same core.
        let ignored = ["OPENBLAS_CORETYPE": "SkylakeX", BLASCore.guardVariable: "SkylakeX"]
        XCTAssertEqual(BLASCore.startupAction(environment: ignored, picked: "Haswell", facts: sapphireRapids) { Self.passing }, .keep(warning: nil))
    }

    func testUserCoreTypeAlwaysWins() {
        let user = ["OPENBLAS_CORETYPE": "Prescott"]
        XCTAssertEqual(BLASCore.coreOrigin(environment: user), .user)
        XCTAssertEqual(BLASCore.startupAction(environment: user, picked: "Prescott", facts: sapphireRapids) { Self.passing }, .keep(warning: nil))
        guard case .keep(let warning?) = BLASCore.startupAction(environment: user, picked: "Prescott", facts: sapphireRapids, selfCheck: { Self.failing }) else {
            return XCTFail("a user's core must be kept, with a warning")
        }
        XCTAssertTrue(warning.contains("OPENBLAS_CORETYPE=Prescott is set"), warning)
        // A leftover guard naming another core does not make the user's variable ours.
        let mixed = ["OPENBLAS_CORETYPE": "Haswell", BLASCore.guardVariable: "SkylakeX"]
        XCTAssertEqual(BLASCore.coreOrigin(environment: mixed), .user)
        XCTAssertEqual(BLASCore.startupAction(environment: mixed, picked: "Haswell", facts: sapphireRapids) { Self.passing }, .keep(warning: nil))
        XCTAssertEqual(BLASCore.coreOrigin(environment: [:]), .openBLAS)
        // Not OpenBLAS: nothing to do.
        XCTAssertEqual(BLASCore.startupAction(environment: [:], picked: nil, facts: sapphireRapids) { Self.failing }, .keep(warning: nil))
    }

    func testProcCPUInfoParser() throws {
        let text = """
        processor\t: 0
        vendor_id\t: GenuineIntel
        cpu family\t: 6
        model\t\t: 143
        model name\t: Intel(R) Xeon(R) Processor
        stepping\t: 8
        flags\t\t: \(Self.sapphireRapidsFlags)
        bugs\t\t: spectre_v1

        processor\t: 1
        vendor_id\t: GenuineIntel
        cpu family\t: 6
        model\t\t: 143
        flags\t\t: fpu sse

        """
        let facts = try XCTUnwrap(CPUFeatures.parse(procCPUInfo: text))
        XCTAssertEqual(facts, sapphireRapids.with(modelName: "Intel(R) Xeon(R) Processor"))
        XCTAssertTrue(facts.isIntel && facts.has("amx_tile") && facts.has("avx512_bf16"))
        XCTAssertNil(CPUFeatures.parse(procCPUInfo: "processor : 0\n"))
        #if os(Linux)
        let here = try XCTUnwrap(CPUFeatures.current())
        XCTAssertFalse(here.vendor.isEmpty)
        XCTAssertTrue(here.has("sse2") || !here.flags.contains("fpu"))
        #endif
    }

    func testSelfCheckPassesHereAndCatchesAWrongProduct() {
        let here = BLASCore.selfCheck()
        XCTAssertTrue(here.passed, "OpenBLAS \(BLASCore.coreName ?? "?"): error \(here.maxRelativeError)")
        XCTAssertLessThan(here.maxRelativeError, 1e-6)
        // One element off by 0.1%, and a product that drops the last term of each sum.
        let oneWrong = BLASCore.selfCheck { transA, transB, m, n, k, a, lda, b, ldb, c, ldc in
            BLASCore.openBLASGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
            c[5 * ldc + 7] *= 1.001
        }
        XCTAssertFalse(oneWrong.passed)
        let shortK = BLASCore.selfCheck { transA, transB, m, n, k, a, lda, b, ldb, c, ldc in
            BLASCore.openBLASGemm(transA, transB, m, n, k - 1, a, lda, b, ldb, c, ldc)
        }
        XCTAssertFalse(shortK.passed)
        let untouched = BLASCore.selfCheck { _, _, _, _, _, _, _, _, _, _, _ in }
        XCTAssertFalse(untouched.passed)  // C starts as NaN
    }
}

extension CPUFeatures {
    func with(modelName: String) -> CPUFeatures {
        var copy = self
        copy.modelName = modelName
        return copy
    }
}
