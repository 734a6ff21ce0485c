// INT8 GEMM shaped for GPUs: work-group tiles of A and B staged in local memory, a register block per work-item.
// Host side: dev.offload.ops.gemm.Int8Gemm with a dev.offload.ops.gemm.TiledGemmConfig; judge: Int8GemmReference.
//
// The same maths as int8_gemm.cl (ONNX MatMulInteger, wrapping int32, signed domain: A flipped on load with a_flip,
// B flipped when packed, effective zero points from the host, zero points taken out after the dot product with
// colsum / rowsum) and the same fused epilogues, shared through int8_gemm.clh. Only the loop nest differs.
//
// The parameter space is that of CLBlast's Xgemm (the meaning of the parameters; this is not its kernel):
//   MWG, NWG     the work-group's tile of C: MWG rows x NWG columns
//   KWG          K step: each pass stages an MWG x KWG slice of A and a KWG x NWG slice of B (a multiple of 4)
//   MDIMC, NDIMC work-items per work-group along M and N (local size NDIMC x MDIMC: dimension 0 runs along N)
//   VWM, VWN     vector width (in 4-byte K-groups of neighbouring rows / columns) of the loads from a tile into
//                registers: each work-item owns MWI = MWG / MDIMC rows in runs of VWM, interleaved with the other
//                work-items' runs, and likewise NWI = NWG / NDIMC columns in runs of VWN
//   SA, SB       1: stage the A (B) slice in local memory, loaded cooperatively and coalesced; 0: every work-item
//                reads its own rows (columns) from global memory
//   USE_INTEGER_DOT_PRODUCT  sum four int8 products with cl_khr_integer_dot_product: dot_4x8packed_ss_int where the
//                device has the packed form, else dot(char4, char4) (DOT4, int8_gemm.clh, emulated where the device
//                lacks the extension); without it a portable widening multiply-add
// Constraints (checked by TiledGemmConfig): MWG % (MDIMC * VWM) == 0, NWG % (NDIMC * VWN) == 0, KWG % 4 == 0.
//
// Data in K-groups: four consecutive K values of a row of A or a column of B travel as one uint (4 int8 values).
// Local tiles are K-group-major, tile[k4][row], so that the VWM rows a work-item reads at one k4 are adjacent.
//
// Bounds: any M, N, K >= 1. A is read unpadded (row-major [M][lda]) with guarded loads: rows past M and K values past
// K read as 0 and the rows are not stored. B is packed as int8_gemm's transposed layout, [n_padded][ldb], with
// n_padded a multiple of NWG and ldb a multiple of KWG, zero-filled, so B loads need no guards. colsum and zb are
// padded to n_padded.
//
// Every work-item of a group takes part in every barrier: none returns early; only the stores are guarded.
//
// FPGA style does not apply: a tile staged in local memory by a work-group, with barriers between the load and the
// compute phases, is the GPU's way of sharing data among work-items; the FPGA style runs single work-item kernels
// (reqd_work_group_size(1,1,1)), where there is nothing to share and the FPGA compiler pipelines the loop nest of
// int8_gemm.cl instead. The host keeps FPGA-style devices on int8_gemm.cl; building this file with OFFLOAD_FPGA fails.
//
// Signed overflow is undefined in OpenCL C, so every sum that may wrap is done in uint.

#ifdef OFFLOAD_FPGA
#error "int8_gemm_tiled.cl is not built in FPGA style: FPGA devices use int8_gemm.cl (see the header)"
#endif

#include "offload.clh"
#include "int8_gemm.clh"

#if !defined(MWG) || !defined(NWG) || !defined(KWG) || !defined(MDIMC) || !defined(NDIMC) || !defined(VWM) \
        || !defined(VWN) || !defined(SA) || !defined(SB)
#error "int8_gemm_tiled.cl needs -D MWG, NWG, KWG, MDIMC, NDIMC, VWM, VWN, SA and SB (TiledGemmConfig.defines)"
#endif
#if MWG % (MDIMC * VWM) != 0 || NWG % (NDIMC * VWN) != 0 || KWG % 4 != 0
#error "tile parameters break MWG % (MDIMC * VWM) == 0, NWG % (NDIMC * VWN) == 0 or KWG % 4 == 0"
#endif

#define MWI (MWG / MDIMC)   // rows of C per work-item
#define NWI (NWG / NDIMC)   // columns of C per work-item
#define KG (KWG / 4)        // K-groups per pass

// The sum of the four products of two K-groups (4 int8 values each), exact in int (at most 4 * 128 * 128).
// With USE_INTEGER_DOT_PRODUCT: the packed 4x8-bit form where the device has it (the K-groups are packed already),
// else dot(char4, char4) or its emulation (DOT4, int8_gemm.clh). PoCL has neither: only the emulation ran here.
#if defined(USE_INTEGER_DOT_PRODUCT) && defined(cl_khr_integer_dot_product) \
        && defined(__opencl_c_integer_dot_product_input_4x8bit_packed)
#define DOT_GROUP(x, y) dot_4x8packed_ss_int((x), (y))
#elif defined(USE_INTEGER_DOT_PRODUCT)
#define DOT_GROUP(x, y) DOT4(as_char4(x), as_char4(y))
#else
static inline int DOT_GROUP(const uint x, const uint y) {
    const int4 p = convert_int4(as_char4(x)) * convert_int4(as_char4(y));
    return p.x + p.y + p.z + p.w;
}
#endif

// A's K-group at (m, k) in the signed domain, 0 past M or K: four bytes at once where they are all inside.
static inline uint load_a_group(__global const char* a, const int lda, const uint flip4, const int M, const int K,
                                const int m, const int k) {
    if (m >= M || k >= K) return 0u;
    __global const char* p = a + (size_t) m * lda + k;
    if (k + 4 <= K) return as_uint(vload4(0, p)) ^ flip4;
    // The last, partial group: the bytes inside K (flipped), zeros after them, in memory order like the vload4 above.
    uchar g[4] = {0, 0, 0, 0};
    for (int t = 0; t < K - k; t++) g[t] = (uchar) p[t] ^ (uchar) flip4;
    return as_uint(vload4(0, g));
}

// Row i (0..MWI-1) of this work-item within the tile: runs of VWM rows, the work-items' runs interleaved.
#define TILE_ROW(i, tm) ((((i) / VWM) * MDIMC + (tm)) * VWM + (i) % VWM)
#define TILE_COL(j, tn) ((((j) / VWN) * NDIMC + (tn)) * VWN + (j) % VWN)

// VW consecutive uints from local memory into regs[0..VW-1] (VW is 1, 2, 4, 8 or 16).
#define LOAD_RUN(VW, regs, src) LOAD_RUN_(VW, regs, src)
#define LOAD_RUN_(VW, regs, src) LOAD_RUN_##VW(regs, src)
#define LOAD_RUN_1(regs, src) (regs)[0] = *(src)
#define LOAD_RUN_2(regs, src) vstore2(vload2(0, (src)), 0, (regs))
#define LOAD_RUN_4(regs, src) vstore4(vload4(0, (src)), 0, (regs))
#define LOAD_RUN_8(regs, src) vstore8(vload8(0, (src)), 0, (regs))
#define LOAD_RUN_16(regs, src) vstore16(vload16(0, (src)), 0, (regs))

// Global size: (ceil(N / NWG) * NDIMC, ceil(M / MWG) * MDIMC); local size (NDIMC, MDIMC). The arguments: int8_gemm.clh.
__kernel __attribute__((reqd_work_group_size(NDIMC, MDIMC, 1)))
void int8_gemm_tiled(INT8_GEMM_PARAMS) {
    const int tn = get_local_id(0), tm = get_local_id(1);
    const int n0 = get_group_id(0) * NWG, m0 = get_group_id(1) * MWG;
    const uint flip4 = (uint) (a_flip & 0xFF) * 0x01010101u;
#if SA || SB
    const int tid = tm * NDIMC + tn;
#endif
#if SA
    __local uint a_tile[KG * MWG];   // [k4][row]
#endif
#if SB
    __local uint b_tile[KG * NWG];   // [k4][column]
#endif

    // Fully unrolled loops over acc keep it in registers (a dynamic index would put it in memory on GPUs).
    uint acc[MWI][NWI];
#pragma unroll
    for (int i = 0; i < MWI; i++)
#pragma unroll
        for (int j = 0; j < NWI; j++) acc[i][j] = 0u;

    for (int kk = 0; kk < K; kk += KWG) {
#if SA || SB
        // Cooperative loads: consecutive work-items take consecutive K-groups of one row (coalesced global reads).
#if SA
        for (int idx = tid; idx < MWG * KG; idx += MDIMC * NDIMC) {
            const int row = idx / KG, k4 = idx % KG;
            a_tile[k4 * MWG + row] = load_a_group(a, lda, flip4, M, K, m0 + row, kk + 4 * k4);
        }
#endif
#if SB
        for (int idx = tid; idx < NWG * KG; idx += MDIMC * NDIMC) {
            const int col = idx / KG, k4 = idx % KG;
            b_tile[k4 * NWG + col] = ((__global const uint*) (bt + (size_t) (n0 + col) * ldb + kk))[k4];
        }
#endif
        barrier(CLK_LOCAL_MEM_FENCE);
#endif
        for (int k4 = 0; k4 < KG; k4++) {
            uint av[MWI], bv[NWI];
#if SA
#pragma unroll
            for (int r = 0; r < MWI / VWM; r++) LOAD_RUN(VWM, av + r * VWM, a_tile + k4 * MWG + (r * MDIMC + tm) * VWM);
#else
#pragma unroll
            for (int i = 0; i < MWI; i++) av[i] = load_a_group(a, lda, flip4, M, K, m0 + TILE_ROW(i, tm), kk + 4 * k4);
#endif
#if SB
#pragma unroll
            for (int r = 0; r < NWI / VWN; r++) LOAD_RUN(VWN, bv + r * VWN, b_tile + k4 * NWG + (r * NDIMC + tn) * VWN);
#else
#pragma unroll
            for (int j = 0; j < NWI; j++)
                bv[j] = *((__global const uint*) (bt + (size_t) (n0 + TILE_COL(j, tn)) * ldb + kk) + k4);
#endif
#pragma unroll
            for (int i = 0; i < MWI; i++)
#pragma unroll
                for (int j = 0; j < NWI; j++) acc[i][j] += (uint) DOT_GROUP(av[i], bv[j]);
        }
#if SA || SB
        barrier(CLK_LOCAL_MEM_FENCE); // the tiles are overwritten by the next pass
#endif
    }

    // Epilogue: zero-point correction, then the selected output conversion; rows past M and columns past N are not stored.
#pragma unroll
    for (int i = 0; i < MWI; i++) {
        const int m = m0 + TILE_ROW(i, tm);
        if (m >= M) continue;
        const uint zam = (uint) (za[m * za_stride] - za_shift);
        const uint rs = use_rowsum ? (uint) rowsum[m] : 0u;
#pragma unroll
        for (int j = 0; j < NWI; j++) {
            const int n = n0 + TILE_COL(j, tn);
            if (n >= N) continue;
            const uint zbn = (uint) zb[n];
            const int c = (int) (acc[i][j] - zam * (uint) colsum[n] - zbn * rs + (uint) K * zam * zbn);
            store1(c, m, n, N, EPILOGUE_ARGS);
        }
    }
}
