#include "CPUKernels.h"
#include "GemvAVX512.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// A single-threaded sgemm in the shape of BLIS (Goto's algorithm): both operands are copied into
/// panels that a 6×16 register tile of AVX2 FMAs reads in order. Blocks are sized for the caches of
/// the x86 cores we run on (32 KB L1d, 512 KB+ L2): a B micro-panel (KC×16, 16 KB) stays in L1 while
/// the tile walks down an A block (MC×KC, 168 KB) held in L2; a B block (KC×NC) lives in L3.
/// The caller splits C across threads; each thread packs into its own buffers. A Linear weight
/// against at most 256 rows takes a second path that leaves the weight unpacked (further down).
/// With `wide` both paths use 512-bit tiles (`kernel_12x32`, `weight_rows_tile`), for CPUs that
/// run them at full width.

enum { MR = 6, NR = 16, KC = 256, MC = 168, NC = 4080 };
enum { WN = 6, WM = 16, WKC = 4096 };  // the few-rows path's tile and k block (further down)

int cpu_kernels_sgemm_reads_weight_in_place(int trans_a, int trans_b, long m, long k) {
    // Its packed A panels (m rounded up to 16, times k) must fit the thread's buffers.
    return !trans_a && trans_b && m > 0 && m <= 256 && (m + WM - 1) / WM * WM * k <= MC * KC + NC * KC;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/// Per-thread packing buffers (A's MC×KC, then B's NC×KC floats, 4.3 MB), allocated on a thread's
/// first product and kept until the thread ends: every pool thread runs products all its life, so
/// the steady state allocates nothing, and a pool that is replaced leaves nothing behind.
static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void make_buffers_key(void) { pthread_key_create(&buffers_key, free); }

static float *thread_buffers(void) {
    pthread_once(&buffers_once, make_buffers_key);
    float *buffers = pthread_getspecific(buffers_key);
    if (buffers) return buffers;
    void *fresh = NULL;
    if (posix_memalign(&fresh, 64, sizeof(float) * (MC * KC + NC * KC)) != 0) return NULL;
    if (pthread_setspecific(buffers_key, fresh) != 0) {
        free(fresh);
        return NULL;
    }
    return fresh;
}

/// Rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) as MR-row strips, k-major inside a strip
/// (strip s, step p: MR floats), the last strip padded with zeros.
static void pack_a(const float *a, long lda, int trans, long i0, long mc, long p0, long kc, float *out) {
    const long whole = mc / MR * MR;
    if (trans) {
        // A stored [k,m]: walk each stored row once, dealing six floats to each strip.
        for (long p = 0; p < kc; p++) {
            const float *src = a + (p0 + p) * lda + i0;
            for (long s = 0; s < whole; s += MR) memcpy(out + s * kc + p * MR, src + s, sizeof(float) * MR);
        }
    } else {
        for (long s = 0; s < whole; s += MR) {
            const float *r0 = a + (i0 + s) * lda + p0;
            float *o = out + s * kc;
            for (long p = 0; p < kc; p++)
                for (long r = 0; r < MR; r++) o[p * MR + r] = r0[r * lda + p];
        }
    }
    if (whole < mc) {
        float *o = out + whole * kc;
        for (long p = 0; p < kc; p++)
            for (long r = 0; r < MR; r++) {
                const long i = i0 + whole + r, pp = p0 + p;
                o[p * MR + r] = whole + r < mc ? (trans ? a[pp * lda + i] : a[i * lda + pp]) : 0;
            }
    }
}

/// Eight vectors transposed in registers: r[i] lane j becomes r[j] lane i.
AVX2 static inline void transpose8x8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
                 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]),
                 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
                 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// Eight rows of eight floats transposed: in[r][c] (row stride `ld`) to out[c][r] (row stride NR).
AVX2 static inline void transpose8(const float *in, long ld, float *out) {
    __m256 r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(in + i * ld);
    transpose8x8(r);
    for (int i = 0; i < 8; i++) _mm256_store_ps(out + i * NR, r[i]);
}

/// Columns [j0, j0+nc) and rows [p0, p0+kc) of op(B) (shape [k,n]) as NR-column panels, k-major
/// inside a panel (panel q, step p: NR floats), the last panel padded with zeros. B stored [n,k]
/// (`trans`, the layout of a Linear weight) is transposed eight by eight.
AVX2 static void pack_b(const float *b, long ldb, int trans, long j0, long nc, long p0, long kc, float *out) {
    if (!trans) {
        // B stored [k,n]: four stored rows at a time are read along their length, streams that the
        // prefetchers follow, and dealt out sixteen floats to each panel. (A panel at a time took
        // one line from each of 256 rows, a miss each: 7–9 % of the wide product at K = 3,072.)
        const long whole = nc / NR * NR;
        for (long p = 0; p < kc; p += 4) {
            const long steps = kc - p < 4 ? kc - p : 4;
            const float *src = b + (p0 + p) * ldb + j0;
            for (long q = 0; q < whole; q += NR)
                for (long r = 0; r < steps; r++) {
                    float *o = out + q * kc + (p + r) * NR;
                    _mm256_store_ps(o, _mm256_loadu_ps(src + r * ldb + q));
                    _mm256_store_ps(o + 8, _mm256_loadu_ps(src + r * ldb + q + 8));
                }
        }
        if (whole < nc)
            for (long p = 0; p < kc; p++)
                for (long c = 0; c < NR; c++)
                    out[whole * kc + p * NR + c] = whole + c < nc ? b[(p0 + p) * ldb + j0 + whole + c] : 0;
        return;
    }
    for (long q = 0; q < nc; q += NR) {
        const long cols = nc - q < NR ? nc - q : NR;
        if (cols == NR) {
            const float *src = b + (j0 + q) * ldb + p0;
            long p = 0;
            for (; p + 8 <= kc; p += 8) {
                transpose8(src + p, ldb, out + p * NR);
                transpose8(src + 8 * ldb + p, ldb, out + p * NR + 8);
            }
            for (; p < kc; p++)
                for (long c = 0; c < NR; c++) out[p * NR + c] = src[c * ldb + p];
        } else {
            for (long p = 0; p < kc; p++)
                for (long c = 0; c < NR; c++) out[p * NR + c] = c < cols ? b[(j0 + q + c) * ldb + p0 + p] : 0;
        }
        out += NR * kc;
    }
}

/// Asks for the source of the next B panel ahead of its packing (into L2: it is read once).
static void prefetch_b(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc) {
    if (trans) {
        for (long c = 0; c < cols; c++)
            for (long p = 0; p < kc; p += 16) __builtin_prefetch(b + (j0 + c) * ldb + p0 + p, 0, 2);
    } else {
        for (long p = 0; p < kc; p++)
            for (long c = 0; c < cols; c += 16) __builtin_prefetch(b + (p0 + p) * ldb + j0 + c, 0, 2);
    }
}

/// One step of the 6×16 tile: two vector loads at `bp`, a broadcast from each of six addresses
/// (`a0`…`a5`), twelve FMAs into c00…c51. Both kernels below use it.
#define TILE_STEP(a0, a1, a2, a3, a4, a5, bp)                                                          \
    do {                                                                                              \
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps((bp) + 8);                         \
        __m256 x;                                                                                     \
        x = _mm256_broadcast_ss(a0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01); \
        x = _mm256_broadcast_ss(a1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11); \
        x = _mm256_broadcast_ss(a2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21); \
        x = _mm256_broadcast_ss(a3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31); \
        x = _mm256_broadcast_ss(a4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41); \
        x = _mm256_broadcast_ss(a5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51); \
    } while (0)

/// A step of the packed kernel: six consecutive floats of the A strip against a B panel row.
#define STEP(ap, bp) TILE_STEP((ap), (ap) + 1, (ap) + 2, (ap) + 3, (ap) + 4, (ap) + 5, bp)

/// C tile (rows × cols ≤ 6×16) = (C when `accumulate`) + Σ_p ap[p]·bpᵀ[p] in twelve accumulators.
/// Four steps per loop turn: at one step per turn the loop's own instructions held the tile at
/// 80–84 % of the FMA peak, at four 87–98 % (AMD EPYC, panels in L1/L2).
AVX2 static void kernel_6x16(long kc, const float *ap, const float *bp, float *c, long ldc, int accumulate,
                             long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
    }
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
        STEP(ap, bp);
        STEP(ap + MR, bp + NR);
        STEP(ap + 2 * MR, bp + 2 * NR);
        STEP(ap + 3 * MR, bp + 3 * NR);
        ap += 4 * MR;
        bp += 4 * NR;
    }
    for (; p < kc; p++) {
        STEP(ap, bp);
        ap += MR;
        bp += NR;
    }
    const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (rows == MR && cols == NR) {
        for (long r = 0; r < MR; r++) {
            float *o = c + r * ldc;
            __m256 x0 = acc[2 * r], x1 = acc[2 * r + 1];
            if (accumulate) {
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(o));
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(o + 8));
            }
            _mm256_storeu_ps(o, x0);
            _mm256_storeu_ps(o + 8, x1);
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
    for (long r = 0; r < MR; r++) {
        _mm256_store_ps(tile + r * NR, acc[2 * r]);
        _mm256_store_ps(tile + r * NR + 8, acc[2 * r + 1]);
    }
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < cols; j++) c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0) + tile[r * NR + j];
}

/// Few rows times a weight: C[m,n] = A[m,k]·W[n,k]ᵀ (a Linear layer on a short sequence). Above,
/// every call copies the whole weight into panels, and with few rows that copy is not paid back:
/// at 64×768×3072 it took 17 % of the call. Here the weight is read as it lies: a 6×16 tile holds
/// six weight rows (broadcast one float at a time, six sequential streams) against sixteen rows of
/// A, which are the ones packed (k-major, 16 wide; small). The tile is C's transpose, so it is
/// turned over by two 8×8 shuffles on the way out. Measured (AMD EPYC Zen 4, 1 thread, best of 15):
/// 84–88 % of the FMA peak at 64×768×3072 against 65–73 % above, 88 % at 16 rows against 51 %.
_Static_assert(WM == NR, "the A panels are packed by transpose8, which writes rows of NR floats");

/// Rows [0,m) of A as 16-row panels, k-major inside (panel j, step p: 16 floats), zero padded.
AVX2 static void pack_a_panels(const float *a, long lda, long m, long k, float *out) {
    for (long j = 0; j < m; j += WM) {
        const long rows = m - j < WM ? m - j : WM;
        float *o = out + j * k;
        long p = 0;
        if (rows == WM)
            for (; p + 8 <= k; p += 8) {
                transpose8(a + j * lda + p, lda, o + p * WM);
                transpose8(a + (j + 8) * lda + p, lda, o + p * WM + 8);
            }
        for (; p < k; p++)
            for (long r = 0; r < WM; r++) o[p * WM + r] = r < rows ? a[(j + r) * lda + p] : 0;
    }
}

/// A step of the few-rows kernel: one float of each of six weight rows against an A panel row.
#define WSTEP(p) TILE_STEP(w0 + (p), w1 + (p), w2 + (p), w3 + (p), w4 + (p), w5 + (p), ap + (p) * WM)

/// Eight vectors (one per weight row, eight A rows each) turned into eight A rows of eight weight
/// columns, of which the first `wrows` are stored into C (added to it when `accumulate`, and the
/// `wrows` floats at `bias` added to each row when it is not NULL).
AVX2 static inline void store_transposed(__m256 r[8], float *c, long ldc, long arows, long wrows, int accumulate,
                                         const float *bias) {
    transpose8x8(r);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)wrows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 b = bias ? _mm256_maskload_ps(bias, mask) : _mm256_setzero_ps();
    for (long i = 0; i < arows; i++) {
        float *o = c + i * ldc;
        __m256 v = bias ? _mm256_add_ps(r[i], b) : r[i];
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(o, mask));
        _mm256_maskstore_ps(o, mask, v);
    }
}

/// C[16 A rows, 6 weight rows] (the first `arows` × `wrows` of it; + C when `accumulate`) =
/// Σ_p ap[p]·w[·,p] (+ bias[weight row] unless `bias` is NULL). Weight rows past `wrows` alias the
/// first, and their sums are not stored.
AVX2 static void kernel_weight_rows(long kc, const float *w, long ldw, long wrows, const float *ap, float *c, long ldc,
                                    long arows, int accumulate, const float *bias) {
    const float *w0 = w, *w1 = w + (wrows > 1) * ldw, *w2 = w + (wrows > 2) * 2 * ldw, *w3 = w + (wrows > 3) * 3 * ldw,
                *w4 = w + (wrows > 4) * 4 * ldw, *w5 = w + (wrows > 5) * 5 * ldw;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
        WSTEP(p);
        WSTEP(p + 1);
        WSTEP(p + 2);
        WSTEP(p + 3);
    }
    for (; p < kc; p++) WSTEP(p);
    const __m256 z = _mm256_setzero_ps();
    __m256 low[8] = {c00, c10, c20, c30, c40, c50, z, z}, high[8] = {c01, c11, c21, c31, c41, c51, z, z};
    store_transposed(low, c, ldc, arows < 8 ? arows : 8, wrows, accumulate, bias);
    if (arows > 8) store_transposed(high, c + 8 * ldc, ldc, arows - 8, wrows, accumulate, bias);
}

/// The few-rows product with 512-bit tiles, for CPUs that run them at full width: eight weight rows
/// (broadcast one float at a time, eight sequential streams) against 32 rows of A (two of the
/// 16-row panels above), sixteen accumulators. The tile is C's transpose, turned over on the way out.
/// Intel Xeon (Emerald Rapids), against OpenBLAS's SkylakeX sgemm in the same runs: 64×3072×768
/// at 84–92 % of the FMA peak against 59–63 %, 16×768×3072 52–53 % on the one-panel tile (two panels:
/// 30–39 %; OpenBLAS 25–33 %; at 16 rows the weight's reads from L3 bound it), 64×768×3072
/// and 200×768×768 level (63–80 %). In a model the weights come from DRAM, and only the first A tile
/// of a block waits for them; so each tile prefetches its share of the next block's rows into L2,
/// spreading the reads over the block's whole time: 64-token prefill of OPT-125m 1.10–1.20× faster
/// (median of 12 alternating rounds), 200 tokens 1.04×. (Prefetching all of the next rows from
/// one tile had measured slower, with the weights in L3, in `bench kernels`.)
enum { WN512 = 8, WN64 = 6 };  // weight rows of the 32-row tile, and of the 64-row one (further down)

/// The tile's sums (weight row i's vector: 16 rows of C's column i) written as rows of C: staged in
/// a small buffer, each of C's rows gathers its ≤ 8 floats and is stored once. One scatter per
/// column instead was slow where C's rows are 4 KB multiples apart (all in one L1 set): 64×768×3072
/// ran at 63–68 % of the FMA peak against 84–92 % at 64×3072×768.
/// `bias` (NULL for none): `wrows` floats added to each row.
AVX512 static void store_rows(float *c, long ldc, const __m512 sums[WN512], long rows, long wrows, int accumulate,
                              const float *bias) {
    float staged[WN512 * 16] __attribute__((aligned(64)));
    for (int i = 0; i < WN512; i++) _mm512_store_ps(staged + 16 * i, sums[i]);
    const __m256i column = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    const __mmask8 m = (__mmask8)((1u << wrows) - 1);
    const __m256 b = bias ? _mm256_maskz_loadu_ps(m, bias) : _mm256_setzero_ps();
    for (long r = 0; r < rows; r++) {
        __m256 v = _mm256_i32gather_ps(staged + r, column, 4);
        if (bias) v = _mm256_add_ps(v, b);
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskz_loadu_ps(m, c + r * ldc));
        _mm256_mask_storeu_ps(c + r * ldc, m, v);
    }
}

/// The 512-bit tile: sixteen accumulators, as 8 weight rows × two A panels (32 rows of A) or, for at
/// most 16 rows of A, 16 weight rows × one panel (two panels would leave half the FMAs unstored);
/// or twelve, as 6 weight rows × two panels (`rows` 6: the rows left below the 64-row tiles).
/// Rows past `wrows` alias the first, and their sums are not stored; `bias` (NULL for none) holds
/// `wrows` floats added to every row of C. `pf` and `pf_rows`: rows of
/// the next weight block whose lines this call prefetches into L2 while it computes, so that the
/// block's DRAM reads spread over all the A tiles that pass the current block.
AVX512 static inline __attribute__((always_inline)) void weight_rows_tile(
    long kc, const float *w, long ldw, long wrows, const float *a0, const float *a1, float *c, long ldc, long arows,
    int accumulate, const float *bias, const float *pf, long pf_rows, const int panels, const int rows) {
    const float *wr[2 * WN512];
    for (int i = 0; i < rows; i++) wr[i] = w + (i < wrows ? i : 0) * ldw;
    __m512 acc[2 * WN512];
    for (int i = 0; i < 2 * WN512; i++) acc[i] = _mm512_setzero_ps();
#define STEP512(p)                                                                                     \
    do {                                                                                               \
        const __m512 x0 = _mm512_load_ps(a0 + (p) * WM);                                               \
        const __m512 x1 = panels == 2 ? _mm512_load_ps(a1 + (p) * WM) : x0;                           \
        for (int i = 0; i < rows; i++) {                                                               \
            const __m512 v = _mm512_set1_ps(wr[i][p]);                                                 \
            acc[i] = _mm512_fmadd_ps(v, x0, acc[i]);                                                   \
            if (panels == 2) acc[rows + i] = _mm512_fmadd_ps(v, x1, acc[rows + i]);                    \
        }                                                                                              \
    } while (0)
    long p = 0;
    for (; p + 16 <= kc; p += 16) {
        for (long r = 0; r < pf_rows; r++) _mm_prefetch((const char *)(pf + r * ldw + p), _MM_HINT_T1);
        for (long q = 0; q < 16; q++) STEP512(p + q);
    }
    for (; p < kc; p++) STEP512(p);
#undef STEP512
    if (panels == 2) {
        store_rows(c, ldc, acc, arows < 16 ? arows : 16, wrows, accumulate, bias);
        if (arows > 16) store_rows(c + 16 * ldc, ldc, acc + rows, arows - 16, wrows, accumulate, bias);
    } else {
        store_rows(c, ldc, acc, arows, wrows < WN512 ? wrows : WN512, accumulate, bias);
        if (wrows > WN512)
            store_rows(c + WN512, ldc, acc + WN512, arows, wrows - WN512, accumulate, bias ? bias + WN512 : NULL);
    }
}

/// Six weight rows against four A panels (64 rows of A), for products of 64 rows or more: 24
/// accumulators fed by six broadcasts and four loads (the tile above: 16 by ten), written as six
/// turns of four FMAs (see kernel_12x32 on clang -O2). Weight rows past `wrows` alias the first.
/// Intel Emerald Rapids, OPT-125m's 72 prefill products at 64 rows with the weights coming from
/// DRAM (C harness, medians of 10–24 alternating passes): 1.05–1.14× the 8 × 32 tile on two
/// threads, 1.15× on one; in L1 alone 82–86 % of the FMA peak against 73–76 %. The 64-token
/// prefill: 1.06× (BENCHMARKS.md).
AVX512 static void tile_four_panels(long kc, const float *w, long ldw, long wrows, const float *a0, long k, float *c,
                                    long ldc, int accumulate, const float *bias, const float *pf, long pf_rows) {
    const float *wr[WN64];
    for (int i = 0; i < WN64; i++) wr[i] = w + (i < wrows ? i : 0) * ldw;
    const float *a1 = a0 + WM * k, *a2 = a1 + WM * k, *a3 = a2 + WM * k;
    __m512 acc[4 * WN64];
    for (int i = 0; i < 4 * WN64; i++) acc[i] = _mm512_setzero_ps();
#define STEP64(p)                                                                                      \
    do {                                                                                               \
        const __m512 x0 = _mm512_load_ps(a0 + (p) * WM), x1 = _mm512_load_ps(a1 + (p) * WM);          \
        const __m512 x2 = _mm512_load_ps(a2 + (p) * WM), x3 = _mm512_load_ps(a3 + (p) * WM);          \
        for (int i = 0; i < WN64; i++) {                                                               \
            const __m512 v = _mm512_set1_ps(wr[i][p]);                                                 \
            acc[i] = _mm512_fmadd_ps(v, x0, acc[i]);                                                   \
            acc[WN64 + i] = _mm512_fmadd_ps(v, x1, acc[WN64 + i]);                                     \
            acc[2 * WN64 + i] = _mm512_fmadd_ps(v, x2, acc[2 * WN64 + i]);                             \
            acc[3 * WN64 + i] = _mm512_fmadd_ps(v, x3, acc[3 * WN64 + i]);                             \
        }                                                                                              \
    } while (0)
    long p = 0;
    for (; p + 16 <= kc; p += 16) {
        for (long r = 0; r < pf_rows; r++) _mm_prefetch((const char *)(pf + r * ldw + p), _MM_HINT_T1);
        for (long q = 0; q < 16; q++) STEP64(p + q);
    }
    for (; p < kc; p++) STEP64(p);
#undef STEP64
    for (int g = 0; g < 4; g++) {
        __m512 sums[WN512];
        for (int i = 0; i < WN512; i++) sums[i] = i < WN64 ? acc[g * WN64 + i] : _mm512_setzero_ps();
        store_rows(c + 16 * g * ldc, ldc, sums, 16, wrows, accumulate, bias);
    }
}

AVX512 static void tile_two_panels(long kc, const float *w, long ldw, long wrows, const float *a0, const float *a1,
                                   float *c, long ldc, long arows, int accumulate, const float *bias, const float *pf,
                                   long pf_rows) {
    weight_rows_tile(kc, w, ldw, wrows, a0, a1, c, ldc, arows, accumulate, bias, pf, pf_rows, 2, WN512);
}

AVX512 static void tile_two_panels_six_rows(long kc, const float *w, long ldw, long wrows, const float *a0, const float *a1,
                                            float *c, long ldc, long arows, int accumulate, const float *bias,
                                            const float *pf, long pf_rows) {
    weight_rows_tile(kc, w, ldw, wrows, a0, a1, c, ldc, arows, accumulate, bias, pf, pf_rows, 2, WN64);
}

AVX512 static void tile_one_panel(long kc, const float *w, long ldw, long wrows, const float *a0, float *c, long ldc,
                                  long arows, int accumulate, const float *bias, const float *pf, long pf_rows) {
    weight_rows_tile(kc, w, ldw, wrows, a0, a0, c, ldc, arows, accumulate, bias, pf, pf_rows, 1, 2 * WN512);
}

/// The few-rows product over weight rows [0, n) with A already packed in `buffer` (`pack_a_panels`),
/// on the AVX2 tile (6 weight rows × 16 rows of A) or the 512-bit ones (8 × 32, or 16 × 16 for at
/// most 16 rows; from 64 rows on, 6 × 64 while 64 rows are left, then 6 × 32 on twelve
/// accumulators, in pieces of at most 128 rows). `n_after`: weight rows that follow these (another
/// thread's share), whose first block the last tiles still prefetch. `bias` (NULL for none): n
/// floats added to every row of C.
static void weight_rows_packed(long m, long n, long n_after, long k, const float *w, long ldw, float *c, long ldc,
                               int accumulate, const float *bias, const float *buffer, int wide) {
    // The 64-row tile reads A a third more often per FMA (a block has 6 weight rows, not 8), so A
    // must sit in L2 beside the weights: past 128 rows it was slower (0.97–0.99× at 200–256 rows),
    // and those go in pieces of 128 rows, each over all of these weight rows (read again from
    // L2/L3 for the next piece): 1.10–1.13× the 8 × 32 tile at 144–256 rows (tile_four_panels's C harness).
    if (wide && m > 8 * WM) {
        for (long r0 = 0; r0 < m; r0 += 8 * WM)
            weight_rows_packed(m - r0 < 8 * WM ? m - r0 : 8 * WM, n, n_after, k, w, ldw, c + r0 * ldc, ldc, accumulate,
                               bias, buffer + r0 * k, wide);
        return;
    }
    const int one_panel = wide && m <= WM, four_panels = wide && m >= 4 * WM;
    const long wn = !wide ? WN : one_panel ? 2 * WN512 : four_panels ? WN64 : WN512, wm = wide && !one_panel ? 2 * WM : WM;
    // A tiles: 64 rows each while 64 are left (four_panels), then `wm`.
    const long tall = four_panels ? m / (4 * WM) : 0, tiles = tall + (m - tall * 4 * WM + wm - 1) / wm;
    for (long p0 = 0; p0 < k; p0 += WKC) {
        const long kc = k - p0 < WKC ? k - p0 : WKC;
        const int add = accumulate || p0 > 0;
        // A tile's weight rows stay in L1/L2 while every A panel passes them.
        for (long n0 = 0; n0 < n; n0 += wn) {
            const long wrows = n - n0 < wn ? n - n0 : wn;
            const float *b = bias && p0 == 0 ? bias + n0 : NULL;
            // Tile t of `tiles` prefetches its share of the next block's rows (none after the last block).
            const long ahead = n + n_after - n0 - wn, next = ahead <= 0 ? 0 : ahead < wn ? ahead : wn;
            for (long j = 0, t = 0; j < m; j += t < tall ? 4 * WM : wm, t++) {
                const float *a0 = buffer + j * k + p0 * WM, *wp = w + n0 * ldw + p0;
                const long arows = m - j < wm ? m - j : wm;
                if (!wide) {
                    kernel_weight_rows(kc, wp, ldw, wrows, a0, c + j * ldc + n0, ldc, arows, add, b);
                } else {
                    const long r0 = t * next / tiles, r1 = (t + 1) * next / tiles;
                    const float *pf = next ? wp + (wn + r0) * ldw : wp;  // never formed past the weight's end
                    if (t < tall) {
                        tile_four_panels(kc, wp, ldw, wrows, a0, k, c + j * ldc + n0, ldc, add, b, pf, r1 - r0);
                    } else if (one_panel) {
                        tile_one_panel(kc, wp, ldw, wrows, a0, c + j * ldc + n0, ldc, arows, add, b, pf, r1 - r0);
                    } else {
                        const float *a1 = arows > WM ? a0 + WM * k : a0;  // a lone panel: the second's sums are not stored
                        if (four_panels)
                            tile_two_panels_six_rows(kc, wp, ldw, wrows, a0, a1, c + j * ldc + n0, ldc, arows, add, b, pf, r1 - r0);
                        else
                            tile_two_panels(kc, wp, ldw, wrows, a0, a1, c + j * ldc + n0, ldc, arows, add, b, pf, r1 - r0);
                    }
                }
            }
        }
    }
}

/// The few-rows product on one thread; the A panels go in the thread's buffers (the caller checked they fit).
static void sgemm_weight_rows(long m, long n, long k, const float *a, long lda, const float *w, long ldw, float *c,
                              long ldc, int accumulate, float *buffer, int wide) {
    pack_a_panels(a, lda, m, k, buffer);
    weight_rows_packed(m, n, 0, k, w, ldw, c, ldc, accumulate, NULL, buffer, wide);
}

/// The two entry points below: each thread packs A once, then takes shares of the weight's rows
/// from `*next` until none are left. Read in place, shares shrink as the rows run out (a
/// 2·threads-th of what is left, multiples of `chunk`), so that the threads finish close together:
/// in a C harness of OPT-125m's 72 prefill products (2 threads, alternating passes) 1.03–1.06×
/// faster than eight equal shares, which left the first thread done waiting for half a share on
/// average. Widened by `widen` (a compact weight), a share is `chunk` rows, the most the thread's
/// buffers hold after A.
static int weight_rows_shared(long m, long n, long k, const float *a, long lda, const float *w, long ldw,
                              void (*widen)(void *context, long start, long end, float *out), void *context, float *c,
                              long ldc, int accumulate, const float *bias, int wide, long threads, long chunk, long *next) {
    if (!cpu_kernels_sgemm_reads_weight_in_place(0, 1, m, k) || chunk <= 0 || threads <= 0) return 0;
    const long packed = ((m + WM - 1) / WM * WM * k + 15) / 16 * 16;  // A's panels, then the widened rows
    if (widen && packed + chunk * k > MC * KC + NC * KC) return 0;
    float *const buffer = thread_buffers();
    if (!buffer) return 0;
    pack_a_panels(a, lda, m, k, buffer);
    long n0 = __atomic_load_n(next, __ATOMIC_RELAXED);
    while (n0 < n) {
        long size = widen ? chunk : (n - n0) / (2 * threads);
        size = size <= chunk ? chunk : (size + chunk - 1) / chunk * chunk;
        // On failure n0 becomes the counter's current value, and the share is sized again.
        if (!__atomic_compare_exchange_n(next, &n0, n0 + size, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) continue;
        const long rows = n - n0 < size ? n - n0 : size;
        const float *b = bias ? bias + n0 : NULL;
        if (widen) {
            widen(context, n0, n0 + rows, buffer + packed);
            weight_rows_packed(m, rows, 0, k, buffer + packed, k, c + n0, ldc, accumulate, b, buffer, wide);
        } else {
            weight_rows_packed(m, rows, n - n0 - rows, k, w + n0 * ldw, ldw, c + n0, ldc, accumulate, b, buffer, wide);
        }
        n0 = __atomic_load_n(next, __ATOMIC_RELAXED);
    }
    return 1;
}

int cpu_kernels_sgemm_weight_rows_shared(long m, long n, long k, const float *a, long lda, const float *w, long ldw,
                                         float *c, long ldc, int accumulate, const float *bias, int wide, long threads,
                                         long chunk, long *next) {
    return weight_rows_shared(m, n, k, a, lda, w, ldw, NULL, NULL, c, ldc, accumulate, bias, wide, threads, chunk, next);
}

int cpu_kernels_sgemm_widened_rows_shared(long m, long n, long k, const float *a, long lda,
                                          void (*widen)(void *context, long start, long end, float *out), void *context,
                                          float *c, long ldc, int accumulate, const float *bias, int wide, long chunk,
                                          long *next) {
    if (!widen) return 0;
    return weight_rows_shared(m, n, k, a, lda, NULL, 0, widen, context, c, ldc, accumulate, bias, wide, 1, chunk, next);
}

/// The packed path in 512-bit tiles, for CPUs that run them at full width. The loops go the other
/// way round from the AVX2 path (as BLIS orders them): a block of B (KC × up to 1,024 columns, half
/// of L2) is packed into L2, then each 12-row strip of A is packed (12 KB, it stays in L1) and the
/// tile walks every B panel of the block with it. The strip is 12 floats wide per step, packed
/// through 16×16 transposes. Intel Xeon (Emerald Rapids, one thread, 20 rounds alternating with OpenBLAS's
/// SkylakeX sgemm): the median of each round's ratio 1.00–1.13 over OpenBLAS at ten training shapes
/// (BENCHMARKS.md), where the AVX2 path's loop order with the same tile was 0.90–0.97.
enum { MRW = 12, NRW = 2 * NR, NCW_MAX = 1024 };
_Static_assert(MRW * KC + NCW_MAX * KC <= MC * KC + NC * KC, "a strip and a block fit in the thread's buffers");

/// Columns of a B block: the block takes half of the L2 that sysconf reports (2 MB on Sapphire and
/// Emerald Rapids: 1,024 columns; 1 MB on Skylake-SP and AMD Zen 4/5: 512), between 256 and 1,024.
/// On Emerald Rapids 1,024 ran 1.02–1.05× faster than 512 (medians of 16 alternating rounds).
static long wide_block_columns = 512;
static pthread_once_t wide_block_once = PTHREAD_ONCE_INIT;

static void measure_wide_block(void) {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l2 > 0) {
        const long columns = l2 / 2 / (KC * (long)sizeof(float)) / NRW * NRW;
        wide_block_columns = columns < 256 ? 256 : columns > NCW_MAX ? NCW_MAX : columns;
    }
#endif
}

/// Sixteen vectors transposed: r[i] lane j becomes r[j] lane i.
AVX512 static inline void transpose16x16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // r[4g + j], 128-bit lane L: rows 4g…4g+3 at column 4L + j. Gather the lanes across groups.
    for (int i = 0; i < 8; i++) {
        const int g = i / 4, j = i % 4;
        t[i] = _mm512_shuffle_f32x4(r[8 * g + j], r[8 * g + 4 + j], 0x88);
        t[i + 8] = _mm512_shuffle_f32x4(r[8 * g + j], r[8 * g + 4 + j], 0xDD);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[4 + j], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[4 + j], 0xDD);
        r[j + 4] = _mm512_shuffle_f32x4(t[8 + j], t[12 + j], 0x88);
        r[j + 12] = _mm512_shuffle_f32x4(t[8 + j], t[12 + j], 0xDD);
    }
}

/// Rows [i0, i0+rows) (rows ≤ 12) and columns [p0, p0+kc) of op(A) as one strip, k-major (step p:
/// 12 floats), rows past `rows` zero.
AVX512 static void pack_a12(const float *a, long lda, int trans, long i0, long rows, long p0, long kc, float *out) {
    const __mmask16 strip = (1u << MRW) - 1;
    if (trans) {
        // A stored [k,m]: each step's 12 floats lie side by side.
        const __mmask16 m = (__mmask16)((1u << rows) - 1);
        for (long p = 0; p < kc; p++)
            _mm512_mask_storeu_ps(out + p * MRW, strip, _mm512_maskz_loadu_ps(m, a + (p0 + p) * lda + i0));
        return;
    }
    const float *src = a + i0 * lda + p0;
    long p = 0;
    for (; p + 16 <= kc; p += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + i * lda + p) : _mm512_setzero_ps();
        transpose16x16(r);
        for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(out + (p + j) * MRW, strip, r[j]);
    }
    for (; p < kc; p++)
        for (long i = 0; i < MRW; i++) out[p * MRW + i] = i < rows ? src[i * lda + p] : 0;
}

/// C tile (rows × cols ≤ 12×32) = (C when `accumulate`) + Σ_p a[p]·[b0 b1][p]: 24 accumulators,
/// two loads of B and twelve broadcasts per step. A lone last panel is read twice (`b1 = b0`) and
/// those sums are not stored.
AVX512 static void kernel_12x32(long kc, const float *a, const float *b0, const float *b1, float *c, long ldc,
                                int accumulate, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NRW - 1, 1, 3);
    }
    __m512 acc[2 * MRW];
    for (int i = 0; i < 2 * MRW; i++) acc[i] = _mm512_setzero_ps();
#define STEP12(p)                                                                                      \
    do {                                                                                               \
        const __m512 x0 = _mm512_load_ps(b0 + (p) * NR), x1 = _mm512_load_ps(b1 + (p) * NR);          \
        for (int i = 0; i < MRW / 2; i++) { /* six turns, as clang -O2 unrolls fully (not twelve) */ \
            const __m512 u = _mm512_set1_ps(a[(p) * MRW + i]), v = _mm512_set1_ps(a[(p) * MRW + 6 + i]); \
            acc[2 * i] = _mm512_fmadd_ps(u, x0, acc[2 * i]);                                           \
            acc[2 * i + 1] = _mm512_fmadd_ps(u, x1, acc[2 * i + 1]);                                   \
            acc[12 + 2 * i] = _mm512_fmadd_ps(v, x0, acc[12 + 2 * i]);                                 \
            acc[13 + 2 * i] = _mm512_fmadd_ps(v, x1, acc[13 + 2 * i]);                                 \
        }                                                                                              \
    } while (0)
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
        STEP12(p);
        STEP12(p + 1);
        STEP12(p + 2);
        STEP12(p + 3);
    }
    for (; p < kc; p++) STEP12(p);
#undef STEP12
    const __mmask16 m0 = cols >= NR ? 0xFFFF : (__mmask16)((1u << cols) - 1),
                    m1 = cols >= NRW ? 0xFFFF : cols > NR ? (__mmask16)((1u << (cols - NR)) - 1) : 0;
    for (long r = 0; r < rows; r++) {
        float *o = c + r * ldc;
        __m512 x0 = acc[2 * r], x1 = acc[2 * r + 1];
        if (accumulate) {
            x0 = _mm512_add_ps(x0, _mm512_maskz_loadu_ps(m0, o));
            x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(m1, o + NR));
        }
        _mm512_mask_storeu_ps(o, m0, x0);
        _mm512_mask_storeu_ps(o + NR, m1, x1);
    }
}

/// The 512-bit packed product: B blocks in L2, A strips in L1 (above). `buffers` holds a strip
/// (MRW×KC floats) and then a block (at most NCW_MAX×KC).
static void sgemm_wide(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda, const float *b,
                       long ldb, float *c, long ldc, int accumulate, float *buffers) {
    pthread_once(&wide_block_once, measure_wide_block);
    const long ncw = wide_block_columns;
    float *const strip = buffers, *const block = buffers + MRW * KC;
    for (long j0 = 0; j0 < n; j0 += ncw) {
        const long nc = n - j0 < ncw ? n - j0 : ncw;
        for (long p0 = 0; p0 < k; p0 += KC) {
            const long kc = k - p0 < KC ? k - p0 : KC;
            const int add = accumulate || p0 > 0;
            pack_b(b, ldb, trans_b, j0, nc, p0, kc, block);
            for (long i = 0; i < m; i += MRW) {
                const long rows = m - i < MRW ? m - i : MRW;
                pack_a12(a, lda, trans_a, i, rows, p0, kc, strip);
                for (long q = 0; q < nc; q += NRW) {
                    const float *bp = block + q * kc;
                    const long cols = nc - q < NRW ? nc - q : NRW;
                    const float *b1 = cols > NR ? bp + NR * kc : bp;  // a lone panel: its twin's sums are not stored
                    kernel_12x32(kc, strip, bp, b1, c + i * ldc + j0 + q, ldc, add, rows, cols);
                }
            }
        }
    }
}

int cpu_kernels_sgemm(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float *c, long ldc, int accumulate, int wide) {
    if (m <= 0 || n <= 0) return 1;
    if (k <= 0) {
        if (!accumulate)
            for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * n);
        return 1;
    }
    float *const packed_a = thread_buffers();
    if (!packed_a) return 0;
    // A Linear weight (B stored [n,k]) against at most 256 rows: the weight is not copied (above).
    if (cpu_kernels_sgemm_reads_weight_in_place(trans_a, trans_b, m, k)) {
        sgemm_weight_rows(m, n, k, a, lda, b, ldb, c, ldc, accumulate, packed_a, wide);
        return 1;
    }
    if (wide) {
        sgemm_wide(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, packed_a);
        return 1;
    }
    float *const packed_b = packed_a + MC * KC;
    for (long j0 = 0; j0 < n; j0 += NC) {
        const long nc = n - j0 < NC ? n - j0 : NC;
        for (long p0 = 0; p0 < k; p0 += KC) {
            const long kc = k - p0 < KC ? k - p0 : KC;
            const int add = accumulate || p0 > 0;
            for (long i0 = 0; i0 < m; i0 += MC) {
                const long mc = m - i0 < MC ? m - i0 : MC;
                pack_a(a, lda, trans_a, i0, mc, p0, kc, packed_a);
                for (long q = 0; q < nc; q += NR) {
                    float *bp = packed_b + q * kc;
                    const long cols = nc - q < NR ? nc - q : NR;
                    // Each B panel is packed just before its first use, so the tiles of the first A
                    // block read it from L1; while they run, the next panel's source is prefetched.
                    if (i0 == 0) {
                        pack_b(b, ldb, trans_b, j0 + q, cols, p0, kc, bp);
                        if (q + NR < nc) prefetch_b(b, ldb, trans_b, j0 + q + NR, nc - q - NR < NR ? nc - q - NR : NR, p0, kc);
                    }
                    for (long s = 0; s < mc; s += MR)
                        kernel_6x16(kc, packed_a + s * kc, bp, c + (i0 + s) * ldc + j0 + q, ldc, add,
                                    mc - s < MR ? mc - s : MR, cols);
                }
            }
        }
    }
    return 1;
}

#else

int cpu_kernels_sgemm(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float *c, long ldc, int accumulate, int wide) {
    (void)trans_a; (void)wide; (void)trans_b; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb;
    (void)c; (void)ldc; (void)accumulate;
    return 0;
}

int cpu_kernels_sgemm_widened_rows_shared(long m, long n, long k, const float *a, long lda,
                                          void (*widen)(void *context, long start, long end, float *out), void *context,
                                          float *c, long ldc, int accumulate, const float *bias, int wide, long chunk,
                                          long *next) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)widen; (void)context; (void)c; (void)ldc; (void)accumulate;
    (void)bias; (void)wide; (void)chunk; (void)next;
    return 0;
}

int cpu_kernels_sgemm_weight_rows_shared(long m, long n, long k, const float *a, long lda, const float *w, long ldw,
                                         float *c, long ldc, int accumulate, const float *bias, int wide, long threads,
                                         long chunk, long *next) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)w; (void)ldw; (void)c; (void)ldc; (void)accumulate;
    (void)bias; (void)wide; (void)threads; (void)chunk; (void)next;
    return 0;
}

#endif
