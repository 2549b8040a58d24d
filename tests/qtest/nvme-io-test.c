/*
 * qtests of our NVMe controller's I/O path: data pointers (PRPs, PRP lists
 * and SGLs, NVM Express Base Specification 2.0, "base", 4.3 and 4.4) and the
 * NVM commands (NVM Command Set Specification 1.0, "nvm"). Each test boots
 * a q35 machine and drives the controller as a host driver would
 * (libqos/nvme.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/nvme.h"

/* Status values as the CQE carries them (without the phase tag) */
#define ST_LBA_RANGE        QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_LBA_OUT_OF_RANGE)

/* ---- data pointers: PRPs and SGLs (base 4.3) ---------------------------- */

/* Where the data of one command lies in guest memory, piece by piece. */
#define XFER_PIECES_MAX 320

typedef struct Xfer {
    uint64_t area;              /* everything lies within [area, area + size) */
    size_t   size;
    size_t   len;               /* sum of the pieces */
    int      n;
    uint64_t addr[XFER_PIECES_MAX];
    uint32_t plen[XFER_PIECES_MAX];
} Xfer;

static void xfer_add(Xfer *x, uint64_t off, uint32_t len)
{
    g_assert_cmpint(x->n, <, XFER_PIECES_MAX);
    g_assert_cmpuint(off + len, <=, x->size);
    x->addr[x->n] = x->area + off;
    x->plen[x->n++] = len;
    x->len += len;
}

static Xfer *xfer_new(QNvmeCtrl *c, size_t size)
{
    Xfer *x = g_new0(Xfer, 1);

    x->size = size;
    x->area = qnvme_alloc(c, size);
    return x;
}

/* One contiguous piece of @len bytes at @off. */
static Xfer *xfer_contig(QNvmeCtrl *c, uint64_t off, size_t len)
{
    Xfer *x = xfer_new(c, off + len);

    xfer_add(x, off, len);
    return x;
}

/* Copy @data into the pieces, or the pieces into @data. */
static void xfer_put(QNvmeCtrl *c, const Xfer *x, const uint8_t *data)
{
    for (int i = 0; i < x->n; data += x->plen[i], i++) {
        qtest_bufwrite(c->qts, x->addr[i], data, x->plen[i]);
    }
}

static void xfer_get(QNvmeCtrl *c, const Xfer *x, uint8_t *data)
{
    for (int i = 0; i < x->n; data += x->plen[i], i++) {
        qtest_bufread(c->qts, x->addr[i], data, x->plen[i]);
    }
}

/* Bytes of the area outside every piece still hold @fill. */
static void xfer_assert_gaps(QNvmeCtrl *c, const Xfer *x, uint8_t fill)
{
    g_autofree uint8_t *area = g_malloc(x->size);
    g_autofree bool *used = g_new0(bool, x->size);
    size_t changed = 0;

    qtest_bufread(c->qts, x->area, area, x->size);
    for (int i = 0; i < x->n; i++) {
        memset(used + (x->addr[i] - x->area), true, x->plen[i]);
    }
    for (size_t i = 0; i < x->size; i++) {
        changed += !used[i] && area[i] != fill;
    }
    g_assert_cmpuint(changed, ==, 0);
}

typedef enum DptrKind {
    DPTR_PRP,               /* one contiguous piece, PRP1/PRP2/lists */
    DPTR_SGL_IN_SQE,        /* one piece: a Data Block in the SQE */
    DPTR_SGL_CHAIN,         /* SQE: Segment -> [data, data, Last Segment] */
    DPTR_SGL_LAST_SEG,      /* SQE: Last Segment -> [every data block] */
} DptrKind;

/* Point @cmd's data pointer at the pieces of @x, as @kind says. */
static void set_dptr(QNvmeCtrl *c, NvmeSqe *cmd, DptrKind kind, const Xfer *x)
{
    g_autofree NvmeSgl *d = g_new0(NvmeSgl, x->n + 1);
    int split = x->n / 2;

    for (int i = 0; i < x->n; i++) {
        d[i] = qnvme_sgl(x->addr[i], x->plen[i], NVME_SGL_DATA_BLOCK);
    }
    switch (kind) {
    case DPTR_PRP:
        g_assert_cmpint(x->n, ==, 1);
        qnvme_set_prps(c, cmd, x->addr[0], x->plen[0]);
        break;
    case DPTR_SGL_IN_SQE:
        g_assert_cmpint(x->n, ==, 1);
        qnvme_set_sgl(cmd, x->addr[0], x->plen[0], NVME_SGL_DATA_BLOCK);
        break;
    case DPTR_SGL_CHAIN: {
        uint64_t last = qnvme_sgl_segment(c, d + split, x->n - split);
        NvmeSgl first[XFER_PIECES_MAX + 1];

        memcpy(first, d, split * sizeof(NvmeSgl));
        first[split] = qnvme_sgl(last, (x->n - split) * sizeof(NvmeSgl),
                                 NVME_SGL_LAST_SEGMENT);
        qnvme_set_sgl(cmd, qnvme_sgl_segment(c, first, split + 1),
                      (split + 1) * sizeof(NvmeSgl), NVME_SGL_SEGMENT);
        break;
    }
    case DPTR_SGL_LAST_SEG:
        qnvme_set_sgl(cmd, qnvme_sgl_segment(c, d, x->n),
                      x->n * sizeof(NvmeSgl), NVME_SGL_LAST_SEGMENT);
        break;
    }
}

/*
 * Write a pattern through @x as @kind says, read it back with PRPs, then
 * read it again through @x: every byte where it belongs, and nothing
 * written outside the pieces.
 */
static void rw_roundtrip(QNvmeCtrl *c, DptrKind kind, Xfer *x)
{
    uint32_t nlb = x->len / 512;
    g_autofree uint8_t *want = g_malloc(x->len);
    g_autofree uint8_t *got = g_malloc(x->len);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 8, nlb);

    g_assert_cmpuint(x->len % 512, ==, 0);
    qnvme_pattern(want, x->len, x->len + kind);
    xfer_put(c, x, want);
    set_dptr(c, &cmd, kind, x);
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    qnvme_assert_ok(qnvme_read(c, 1, 1, 8, nlb, got, x->len));
    g_assert_true(memcmp(want, got, x->len) == 0);

    qtest_memset(c->qts, x->area, 0xee, x->size);
    cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 8, nlb);
    set_dptr(c, &cmd, kind, x);
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    xfer_get(c, x, got);
    g_assert_true(memcmp(want, got, x->len) == 0);
    xfer_assert_gaps(c, x, 0xee);
    g_free(x);
}

static void prp_case(const char *devs, uint64_t off, size_t len)
{
    QNvmeCtrl *c = qnvme_boot_io_with(devs);

    rw_roundtrip(c, DPTR_PRP, xfer_contig(c, off, len));
    qnvme_shutdown(c);
}

/* 512 bytes inside one page: PRP1 alone, with an offset */
static void test_data_prp1_only(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x100, 512);
}

static void test_data_prp1_prp2(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0, 8 * KiB);
}

/* 4 KiB from the middle of a page: PRP1 to its end, PRP2 the rest */
static void test_data_prp1_offset_prp2(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x800, 4 * KiB);
}

static void test_data_prp_list(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0, 64 * KiB);
}

static void test_data_prp_list_offset(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x200, 64 * KiB);
}

/* 4 MiB (MDTS 10): 1023 list entries, so two list pages chained */
static void test_data_prp_list_chained(void)
{
    prp_case("-device nvme," QNVME_ADDR ",serial=big,drive=d0,mdts=10",
             0, 4 * MiB);
}

/*
 * CC.MPS 4 (64 KiB host pages, CAP.MPSMAX 4): 33 MiB in PRP1 and a list of
 * 520 or more entries, more than the controller reads at once (base 4.3.1).
 * The image file itself is checked, so that a read and a write that both
 * follow the same wrong entries cannot hide each other. Each 64 KiB page
 * carries its number at its start and end; moving 33 MiB through qtest's
 * text protocol would take minutes, so guest memory is checked there only.
 */
#define MPS64K_PAGES    521
#define MPS64K          (64 * KiB)

static uint64_t mps64k_tag(size_t page, uint8_t seed)
{
    return 0x7e57000000000000ull | (uint64_t)seed << 32 | page;
}

/* @page's expected bytes: @seed everywhere, its tags at both ends */
static void mps64k_fill(uint8_t *data, size_t page, uint8_t seed)
{
    uint64_t tag = cpu_to_le64(mps64k_tag(page, seed));

    memset(data, seed, MPS64K);
    memcpy(data, &tag, 8);
    memcpy(data + MPS64K - 8, &tag, 8);
}

/* The tags in guest memory at @buf are those of @seed */
static void mps64k_assert_tags(QNvmeCtrl *c, uint64_t buf, uint8_t seed)
{
    size_t bad = 0;

    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        uint64_t head, tail;

        qtest_memread(c->qts, buf + page * MPS64K, &head, 8);
        qtest_memread(c->qts, buf + (page + 1) * MPS64K - 8, &tail, 8);
        bad += le64_to_cpu(head) != mps64k_tag(page, seed) ||
               le64_to_cpu(tail) != mps64k_tag(page, seed);
    }
    g_assert_cmpuint(bad, ==, 0);
}

static uint16_t mps64k_rw(QNvmeCtrl *c, uint8_t opcode, uint64_t buf)
{
    const size_t len = MPS64K_PAGES * MPS64K;
    NvmeSqe cmd = qnvme_rw_cmd(opcode, 1, 0, len / 4096);

    qnvme_set_prps(c, &cmd, buf, len);
    return qnvme_exec(c, 1, &cmd, NULL);
}

static void test_data_prp_list_mps_64k(void)
{
    const size_t len = MPS64K_PAGES * MPS64K;
    g_autofree char *img = qnvme_make_image(len);
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);
    QNvmeCtrl *c;
    uint64_t buf;
    int fd = open(img, O_RDWR);

    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        mps64k_fill(want + page * MPS64K, page, 0x11);
    }
    g_assert_cmpint(pwrite(fd, want, len, 0), ==, len);
    c = qnvme_boot("-drive if=none,id=big,file=%s,format=raw "
                   "-device nvme,id=c0," QNVME_ADDR ",serial=mps,drive=big,"
                   "logical_block_size=4096,physical_block_size=4096,mdts=0",
                   img);
    g_assert_cmpuint(FIELD_EX64(qnvme_readq(c, A_NVME_CAP), NVME_CAP, MPSMAX),
                     >=, 4);
    qnvme_enable_cc(c, FIELD_DP32(QNVME_CC_DEFAULT, NVME_CC, MPS, 4));
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    /* not 64 KiB aligned: PRP1 carries an offset into its page */
    buf = qnvme_alloc_aligned(c, len + MPS64K, MPS64K) + 3 * QNVME_PAGE;

    qtest_memset(c->qts, buf, 0, len);
    qnvme_assert_ok(mps64k_rw(c, NVME_IO_READ, buf));
    mps64k_assert_tags(c, buf, 0x11);

    qtest_memset(c->qts, buf, 0x22, len);
    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        mps64k_fill(want + page * MPS64K, page, 0x22);
        qtest_memwrite(c->qts, buf + page * MPS64K, want + page * MPS64K, 8);
        qtest_memwrite(c->qts, buf + (page + 1) * MPS64K - 8,
                       want + (page + 1) * MPS64K - 8, 8);
    }
    qnvme_assert_ok(mps64k_rw(c, NVME_IO_WRITE, buf));
    g_assert_cmpint(pread(fd, got, len, 0), ==, len);
    g_assert_true(memcmp(want, got, len) == 0);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
    close(fd);
    unlink(img);
}

/* One Data Block descriptor in the SQE, at an odd address */
static void test_data_sgl_data_block(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_IN_SQE, xfer_contig(c, 0x10, 8 * KiB));
    qnvme_shutdown(c);
}

/* Pieces of odd sizes and places, one across a page boundary */
static Xfer *xfer_scattered(QNvmeCtrl *c)
{
    Xfer *x = xfer_new(c, 16 * KiB);

    xfer_add(x, 0x10, 700);
    xfer_add(x, 0x800, 324);
    xfer_add(x, 0x1f00, 1000);
    xfer_add(x, 0x3001, 1048);
    return x;
}

static void test_data_sgl_segment_chain(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_CHAIN, xfer_scattered(c));
    qnvme_shutdown(c);
}

static void test_data_sgl_last_segment(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_LAST_SEG, xfer_scattered(c));
    qnvme_shutdown(c);
}

/* A segment of 300 descriptors, more than a controller reads at once */
static void test_data_sgl_long_segment(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    Xfer *x = xfer_new(c, 300 * KiB);

    for (int i = 0; i < 300; i++) {
        xfer_add(x, i * KiB + (i % 7) * 16, 512);
    }
    rw_roundtrip(c, DPTR_SGL_LAST_SEG, x);
    qnvme_shutdown(c);
}

/* ---- NVM commands (nvm 3.3) --------------------------------------------- */

/* @nlb blocks at @slba of namespace 1 read as zeroes */
static void assert_zeroes(QNvmeCtrl *c, uint64_t slba, uint32_t nlb)
{
    size_t len = nlb * 512;
    g_autofree uint8_t *got = g_malloc(len);

    qnvme_assert_ok(qnvme_read(c, 1, 1, slba, nlb, got, len));
    g_assert_true(qnvme_all_zero(got, len));
}

/* Write Zeroes, with and without Deallocate: the range reads as zeroes */
static void test_io_write_zeroes(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe deac = qnvme_rw_cmd(NVME_IO_WRITE_ZEROES, 1, 24, 8);

    qnvme_write_pattern(c, 1, 1, 0, 48, 5);
    qnvme_assert_ok(qnvme_io_nodata(c, 1, NVME_IO_WRITE_ZEROES, 1, 8, 8));
    deac.cdw12 |= R_NVME_RW_DW12_DEAC_MASK;
    qnvme_assert_ok(qnvme_exec(c, 1, &deac, NULL));
    assert_zeroes(c, 8, 8);
    assert_zeroes(c, 24, 8);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 5);
    qnvme_shutdown(c);
}

static uint16_t dsm_deallocate(QNvmeCtrl *c, const NvmeDsmRange *ranges,
                               int nr, bool deallocate)
{
    NvmeSqe cmd = {
        .opcode = NVME_IO_DSM, .nsid = 1,
        .cdw10 = FIELD_DP32(0, NVME_DSM_DW10, NR, nr - 1),
        .cdw11 = FIELD_DP32(0, NVME_DSM_DW11, AD, deallocate),
    };
    uint64_t buf = qnvme_prp_zbuf(c, &cmd, nr * sizeof(*ranges));

    qtest_memwrite(c->qts, buf, ranges, nr * sizeof(*ranges));
    return qnvme_exec(c, 1, &cmd, NULL);
}

/* Deallocated blocks read as zeroes, as DLFEAT 001b promises (nvm 3.3.3) */
static void test_io_dsm_deallocate(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeDsmRange ranges[2] = {
        { .nlb = cpu_to_le32(8), .slba = cpu_to_le64(8) },
        { .nlb = cpu_to_le32(16), .slba = cpu_to_le64(40) },
    };

    qnvme_write_pattern(c, 1, 1, 0, 64, 6);
    /* without the Deallocate attribute the ranges are only hints */
    qnvme_assert_ok(dsm_deallocate(c, ranges, 2, false));
    qnvme_assert_pattern(c, 1, 1, 0, 64, 6);
    qnvme_assert_ok(dsm_deallocate(c, ranges, 2, true));
    assert_zeroes(c, 8, 8);
    assert_zeroes(c, 40, 16);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 6);
    qnvme_shutdown(c);
}

static uint16_t compare_with(QNvmeCtrl *c, uint32_t seed)
{
    uint8_t data[8 * 512];

    qnvme_pattern(data, sizeof(data), seed);
    return qnvme_write(c, 1, NVME_IO_COMPARE, 1, 16, 8, data, sizeof(data));
}

static void test_io_compare_match(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_write_pattern(c, 1, 1, 16, 8, 7);
    qnvme_assert_ok(compare_with(c, 7));
    qnvme_shutdown(c);
}

static void test_io_compare_mismatch(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_write_pattern(c, 1, 1, 16, 8, 7);
    qnvme_assert_status(compare_with(c, 8),
                        QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILURE));
    qnvme_shutdown(c);
}

static void test_io_verify(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_assert_ok(qnvme_io_nodata(c, 1, NVME_IO_VERIFY, 1, 0, 256));
    qnvme_assert_ok(qnvme_io_nodata(c, 1, NVME_IO_VERIFY, 1, QNVME_NLBAS0 - 1,
                                    1));
    qnvme_assert_status(qnvme_io_nodata(c, 1, NVME_IO_VERIFY, 1,
                                        QNVME_NLBAS0 - 1, 2), ST_LBA_RANGE);
    qnvme_shutdown(c);
}

/* Flush of one namespace, and of all with FFFFFFFFh (VWC bits 2:1 11b) */
static void test_io_flush(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(id.vwc & 6, ==, NVME_VWC_NSID_BCAST_OK);
    qnvme_write_pattern(c, 1, 1, 0, 8, 9);
    qnvme_assert_ok(qnvme_io_nodata(c, 1, NVME_IO_FLUSH, 1, 0, 1));
    qnvme_assert_ok(qnvme_io_nodata(c, 1, NVME_IO_FLUSH, NVME_NSID_BROADCAST,
                                    0, 1));
    qnvme_assert_pattern(c, 1, 1, 0, 8, 9);
    qnvme_shutdown(c);
}

/* Two I/O queue pairs with commands outstanding on both at once */
static void test_io_two_queue_pairs(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t a[4096], b[4096];
    NvmeSqe wa = qnvme_rw_cmd(NVME_IO_WRITE, 1, 100, 8);
    NvmeSqe wb = qnvme_rw_cmd(NVME_IO_WRITE, 1, 200, 8);
    uint16_t ca, cb;
    NvmeCqe ea, eb;

    qnvme_create_ioq_pair(c, 2, QNVME_IOQ_ENTRIES);
    qnvme_pattern(a, sizeof(a), 11);
    qnvme_pattern(b, sizeof(b), 12);
    qtest_memwrite(c->qts, qnvme_prp_zbuf(c, &wa, sizeof(a)), a, sizeof(a));
    qtest_memwrite(c->qts, qnvme_prp_zbuf(c, &wb, sizeof(b)), b, sizeof(b));
    ca = qnvme_submit(c, 1, &wa);
    cb = qnvme_submit(c, 2, &wb);
    ea = qnvme_wait_cqe(c, 2, cb);
    eb = qnvme_wait_cqe(c, 1, ca);
    qnvme_assert_ok(qnvme_cqe_status(&ea));
    qnvme_assert_ok(qnvme_cqe_status(&eb));
    g_assert_cmpuint(ea.sqid, ==, 2);
    g_assert_cmpuint(eb.sqid, ==, 1);
    /* each queue reads what the other one wrote */
    qnvme_assert_pattern(c, 2, 1, 100, 8, 11);
    qnvme_assert_pattern(c, 1, 1, 200, 8, 12);
    qnvme_shutdown(c);
}

/* ---- the list of tests -------------------------------------------------- */

static const QNvmeTest tests[] = {
    { "data/prp1-only", test_data_prp1_only },
    { "data/prp1-prp2", test_data_prp1_prp2 },
    { "data/prp1-offset-prp2", test_data_prp1_offset_prp2 },
    { "data/prp-list", test_data_prp_list },
    { "data/prp-list-offset", test_data_prp_list_offset },
    { "data/prp-list-chained", test_data_prp_list_chained },
    { "data/prp-list-mps-64k", test_data_prp_list_mps_64k },
    { "data/sgl-data-block", test_data_sgl_data_block },
    { "data/sgl-segment-chain", test_data_sgl_segment_chain },
    { "data/sgl-last-segment", test_data_sgl_last_segment },
    { "data/sgl-long-segment", test_data_sgl_long_segment },
    { "io/write-zeroes", test_io_write_zeroes },
    { "io/dsm-deallocate", test_io_dsm_deallocate },
    { "io/compare-match", test_io_compare_match },
    { "io/compare-mismatch", test_io_compare_mismatch },
    { "io/verify", test_io_verify },
    { "io/flush", test_io_flush },
    { "io/two-queue-pairs", test_io_two_queue_pairs },
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme", tests, ARRAY_SIZE(tests));
    return g_test_run();
}
