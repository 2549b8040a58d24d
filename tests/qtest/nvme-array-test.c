/*
 * qtests of what a storage array offers beyond reads and writes: Write
 * Uncorrectable (NVM Command Set 1.0, 3.3.8), Copy (3.3.1) and the NVM
 * Subsystem Reset (Base 2.0, 3.7.1, and QMP nvme-subsys-reset). Statuses,
 * data read back, what every controller of a subsystem sees, the limits
 * Identify reports, and teardown with I/O in flight.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/pci_regs.h"
#include "libqos/nvme.h"

#define AR_URE      QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ)
#define AR_LIMIT    QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC, NVME_SC_CMD_SIZE_LIMIT)
#define AR_RANGE    QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE)

/* The limits the device reports (hw/block/nvme-ns.h) */
#define AR_MSSRL    4096
#define AR_MCL      16384
#define AR_MSRC     128

#define AR_STEP_NS  (50 * 1000 * 1000)  /* virtual time per poll */
#define AR_WAIT_US  (20 * G_USEC_PER_SEC)

/* Throttled to one request per second of virtual time */
#define AR_SLOW_DRIVE \
    "-drive if=none,id=dt,driver=null-co,read-zeroes=on,size=64M," \
    "throttling.iops-total=1 "

static uint16_t ar_simple(QNvmeCtrl *c, uint8_t opcode, uint64_t slba,
                          uint32_t nlb)
{
    NvmeSqe cmd = qnvme_rw_cmd(opcode, 1, slba, nlb);

    return qnvme_exec(c, 1, &cmd, NULL);
}

static uint16_t ar_read(QNvmeCtrl *c, uint64_t slba, uint32_t nlb)
{
    return qnvme_read_blocks(c, 1, 1, slba, nlb);
}

/*
 * The @nlb blocks at @at hold blocks [from, from + nlb) of pattern @seed as
 * qnvme_write_pattern() wrote it from block @base on
 */
static void ar_assert_part(QNvmeCtrl *c, uint64_t base, uint32_t seed,
                           uint64_t from, uint64_t at, uint32_t nlb)
{
    size_t off = (from - base) * 512, len = nlb * 512;
    g_autofree uint8_t *want = g_malloc(off + len);
    g_autofree uint8_t *got = g_malloc(len);

    qnvme_pattern(want, off + len, seed);
    qnvme_assert_ok(qnvme_read(c, 1, 1, at, nlb, got, len));
    g_assert_true(memcmp(want + off, got, len) == 0);
}

/* The newest Error Information log entry's LBA */
static uint64_t ar_error_lba(QNvmeCtrl *c)
{
    NvmeErrorLogEntry e;

    qnvme_read_log(c, NVME_LOG_ERROR, &e, sizeof(e));
    return le64_to_cpu(e.lba);
}

#define AR_TWO_CTRLS \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=ar-a,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=ar-b,subsys=s0 "

/*
 * Two controllers from @devs, c0 at QNVME_SLOT and *@c1 at QNVME_SLOT2, each
 * enabled with queue pair 1
 */
static QNvmeCtrl *ar_boot_pair(const char *devs, QNvmeCtrl **c1)
{
    QNvmeCtrl *c0 = qnvme_boot_io_with(devs);

    *c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(*c1);
    qnvme_create_ioq_pair(*c1, 1, QNVME_IOQ_ENTRIES);
    return c0;
}

/* ---- Write Uncorrectable ------------------------------------------------ */

static void test_uncorr_reads_fail(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t zero[512] = { 0 }, got[512];

    qnvme_write_pattern(c, 1, 1, 0, 16, 7);
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 4, 2));

    /* blocks 4 and 5 fail, whatever reads them; the others read as written */
    qnvme_assert_pattern(c, 1, 1, 0, 4, 7);
    qnvme_assert_status(ar_read(c, 3, 2), AR_URE);
    g_assert_cmpuint(ar_error_lba(c), ==, 4);
    qnvme_assert_status(ar_read(c, 5, 1), AR_URE);
    g_assert_cmpuint(ar_error_lba(c), ==, 5);
    qnvme_assert_status(ar_simple(c, NVME_IO_VERIFY, 0, 8), AR_URE);
    ar_assert_part(c, 0, 7, 6, 6, 10);

    /* a write makes block 4 readable; 5 stays marked */
    qnvme_write_pattern(c, 1, 1, 4, 1, 9);
    qnvme_assert_ok(ar_read(c, 4, 1));
    qnvme_assert_status(ar_read(c, 4, 2), AR_URE);

    /* Write Zeroes clears too, and the block reads as zeroes */
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_ZEROES, 5, 1));
    qnvme_assert_ok(qnvme_read(c, 1, 1, 5, 1, got, sizeof(got)));
    g_assert_true(memcmp(got, zero, sizeof(got)) == 0);

    /* Compare of a marked block fails the same way */
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 8, 1));
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_COMPARE, 1, 8, 1, got,
                                    sizeof(got)), AR_URE);
    qnvme_shutdown(c);
}

/* Dataset Management's Deallocate clears the marks of its ranges */
static void test_uncorr_deallocate(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeDsmRange range = {
        .nlb = cpu_to_le32(3), .slba = cpu_to_le64(10),
    };
    NvmeSqe cmd = {
        .opcode = NVME_IO_DSM, .nsid = 1,
        .cdw11 = R_NVME_DSM_DW11_AD_MASK,
    };
    uint64_t buf = qnvme_alloc(c, sizeof(range));

    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 10, 4));
    qtest_memwrite(c->qts, buf, &range, sizeof(range));
    qnvme_set_prps(c, &cmd, buf, sizeof(range));
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    qnvme_assert_ok(ar_read(c, 10, 3));
    qnvme_assert_status(ar_read(c, 13, 1), AR_URE);
    qnvme_shutdown(c);
}

/* Marks belong to the namespace: every controller of the subsystem sees them */
static void test_uncorr_shared(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_TWO_CTRLS
                                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0",
                                 &c1);

    qnvme_assert_ok(ar_simple(c0, NVME_IO_WRITE_UNCORRECTABLE, 20, 1));
    qnvme_assert_status(ar_read(c1, 20, 1), AR_URE);
    qnvme_write_pattern(c1, 1, 1, 20, 1, 3);
    qnvme_assert_pattern(c0, 1, 1, 20, 1, 3);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/*
 * Marks are kept per chunk of 4,096 blocks, at most 2,048 chunks: one mark
 * in each chunk fills them; the next, in a new chunk, fails and marks
 * nothing, while more marks in chunks already held still work.
 */
static void test_uncorr_bounded(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(
        "-drive if=none,id=big,driver=null-co,read-zeroes=on,size=8G "
        "-device nvme,id=c0," QNVME_ADDR ",serial=ar-big,drive=big");
    uint64_t chunk = 4096;

    for (uint64_t i = 0; i < 2048; i++) {
        qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE,
                                  i * chunk, 1));
    }
    qnvme_assert_status(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE,
                                  2048 * chunk, 1),
                        QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
    qnvme_assert_ok(ar_read(c, 2048 * chunk, 1));
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 7, 1));
    qnvme_assert_status(ar_read(c, 7, 1), AR_URE);

    /* freeing a chunk (its only mark written over) makes room again */
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_ZEROES, 4096, 1));
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE,
                              2048 * chunk, 1));
    qnvme_assert_status(ar_read(c, 2048 * chunk, 1), AR_URE);
    qnvme_shutdown(c);
}

/* ---- Copy --------------------------------------------------------------- */

typedef struct ArRange {
    uint64_t slba;
    uint32_t nlb;               /* counted from 1 */
} ArRange;

/* A Copy command of @nr source ranges (format 0h) to @sdlba, not sent yet */
static NvmeSqe ar_copy_cmd(QNvmeCtrl *c, uint64_t sdlba, const ArRange *r,
                           unsigned nr, uint32_t dw12)
{
    g_autofree NvmeCopyRange *list = g_new0(NvmeCopyRange, nr);
    size_t len = nr * sizeof(*list);
    uint64_t buf = qnvme_alloc(c, len);
    NvmeSqe cmd = {
        .opcode = NVME_IO_COPY, .nsid = 1,
        .cdw10 = (uint32_t)sdlba, .cdw11 = sdlba >> 32,
        .cdw12 = ((nr - 1) & R_NVME_COPY_DW12_NR_MASK) | dw12,
    };

    for (unsigned i = 0; i < nr; i++) {
        list[i].slba = cpu_to_le64(r[i].slba);
        list[i].nlb = cpu_to_le16(r[i].nlb - 1);
    }
    qtest_memwrite(c->qts, buf, list, len);
    qnvme_set_prps(c, &cmd, buf, len);
    return cmd;
}

static uint16_t ar_copy(QNvmeCtrl *c, uint64_t sdlba, const ArRange *r,
                        unsigned nr, uint32_t dw12)
{
    NvmeSqe cmd = ar_copy_cmd(c, sdlba, r, nr, dw12);

    return qnvme_exec(c, 1, &cmd, NULL);
}

static void test_copy_identify(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeIdCtrl ctrl;
    NvmeIdNs ns;

    qnvme_identify_ctrl(c, &ctrl);
    g_assert_cmphex(le16_to_cpu(ctrl.oncs) & NVME_ONCS_COPY, ==,
                    NVME_ONCS_COPY);
    g_assert_cmphex(le16_to_cpu(ctrl.oncs) & NVME_ONCS_WRITE_UNCORR, ==,
                    NVME_ONCS_WRITE_UNCORR);
    g_assert_cmphex(le16_to_cpu(ctrl.ocfs), ==, NVME_OCFS_FORMAT0);
    qnvme_identify_ns(c, 1, &ns);
    g_assert_cmpuint(le16_to_cpu(ns.mssrl), ==, AR_MSSRL);
    g_assert_cmpuint(le32_to_cpu(ns.mcl), ==, AR_MCL);
    g_assert_cmpuint(ns.msrc, ==, AR_MSRC - 1);
    qnvme_shutdown(c);
}

/* Two ranges, one of them over several of the device's 128 KiB pieces */
static void test_copy_data(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    ArRange r[] = { { 0, 700 }, { 1000, 5 } };

    qnvme_write_pattern(c, 1, 1, 0, 700, 11);
    qnvme_write_pattern(c, 1, 1, 1000, 5, 12);
    qnvme_write_pattern(c, 1, 1, 2000, 710, 13);
    qnvme_assert_ok(ar_copy(c, 2000, r, 2, 0));
    qnvme_assert_pattern(c, 1, 1, 2000, 700, 11);
    qnvme_assert_pattern(c, 1, 1, 2700, 5, 12);
    /* nothing beyond the destination range changed */
    ar_assert_part(c, 2000, 13, 2705, 2705, 5);
    /* with FUA, and from a range onto itself */
    qnvme_assert_ok(ar_copy(c, 1000, &r[1], 1, R_NVME_COPY_DW12_FUA_MASK));
    qnvme_assert_pattern(c, 1, 1, 1000, 5, 12);
    qnvme_shutdown(c);
}

/* Every limit fails with its status and copies nothing */
static void test_copy_limits(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint64_t nlbas = QNVME_IMG0_SIZE / 512;
    g_autofree ArRange *many = g_new0(ArRange, AR_MSRC + 1);
    ArRange too_long = { 0, AR_MSSRL + 1 };
    ArRange ok = { 0, 8 };
    ArRange past_end = { nlbas - 4, 8 };
    NvmeSqe cmd;

    for (unsigned i = 0; i <= AR_MSRC; i++) {
        many[i] = (ArRange) { i, 1 };
    }
    qnvme_write_pattern(c, 1, 1, 0, 8, 21);
    qnvme_write_pattern(c, 1, 1, 100, 8, 22);

    qnvme_assert_status(ar_copy(c, 100, many, AR_MSRC + 1, 0), AR_LIMIT);
    qnvme_assert_status(ar_copy(c, 100, &too_long, 1, 0), AR_LIMIT);
    for (unsigned i = 0; i < 5; i++) {
        many[i] = (ArRange) { i * AR_MSSRL, AR_MSSRL };   /* MCL + 4096 */
    }
    qnvme_assert_status(ar_copy(c, 100, many, 5, 0), AR_LIMIT);
    qnvme_assert_status(ar_copy(c, 100, &past_end, 1, 0), AR_RANGE);
    qnvme_assert_status(ar_copy(c, nlbas - 4, &ok, 1, 0), AR_RANGE);
    cmd = ar_copy_cmd(c, 100, &ok, 1, 1 << R_NVME_COPY_DW12_DESFMT_SHIFT);
    qnvme_assert_status(qnvme_exec(c, 1, &cmd, NULL),
                        QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
    qnvme_assert_pattern(c, 1, 1, 100, 8, 22);

    /* at the limits it works: MSRC ranges, MCL blocks in MSSRL pieces */
    for (unsigned i = 0; i < AR_MSRC; i++) {
        many[i] = (ArRange) { i % 8, 1 };
    }
    qnvme_assert_ok(ar_copy(c, 200, many, AR_MSRC, 0));
    ar_assert_part(c, 0, 21, 0, 200, 8);
    ar_assert_part(c, 0, 21, 0, 200 + AR_MSRC - 8, 8);
    for (unsigned i = 0; i < 4; i++) {
        many[i] = (ArRange) { 0, AR_MSSRL };
    }
    qnvme_assert_ok(ar_copy(c, nlbas - AR_MCL, many, 4, 0));
    qnvme_assert_pattern(c, 1, 1, nlbas - AR_MCL, 8, 21);
    qnvme_shutdown(c);
}

/* Uncorrectable source blocks fail the Copy; its destination is cleared */
static void test_copy_uncorrectable(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    ArRange bad = { 50, 4 };
    ArRange good = { 0, 4 };

    qnvme_write_pattern(c, 1, 1, 0, 4, 31);
    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 52, 1));
    qnvme_assert_status(ar_copy(c, 300, &bad, 1, 0), AR_URE);
    g_assert_cmpuint(ar_error_lba(c), ==, 52);

    qnvme_assert_ok(ar_simple(c, NVME_IO_WRITE_UNCORRECTABLE, 400, 4));
    qnvme_assert_ok(ar_copy(c, 400, &good, 1, 0));
    qnvme_assert_pattern(c, 1, 1, 400, 4, 31);
    qnvme_shutdown(c);
}

/* Wait for @cid on @cqid, letting virtual time run in big steps */
static uint16_t ar_wait_status(QNvmeCtrl *c, uint16_t cqid, uint16_t cid)
{
    return qnvme_wait_status_step(c, cqid, cid, AR_WAIT_US, AR_STEP_NS);
}

/*
 * A Copy whose reads are throttled is still running when its SQ is deleted:
 * it ends with Aborted due to SQ Deletion, then the Delete completes, and
 * the controller goes on working.
 */
static void test_copy_delete_sq(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(
        AR_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=ar-slow,drive=dt");
    ArRange r[] = { { 0, 1 }, { 10, 1 }, { 20, 1 }, { 30, 1 } };
    NvmeSqe cmd = ar_copy_cmd(c, 100, r, 4, 0);
    NvmeSqe del = { .opcode = NVME_ADM_DELETE_SQ, .cdw10 = 1 };
    uint16_t copy = qnvme_submit(c, 1, &cmd);
    uint16_t del_cid;

    /* the first read and write pass; the Copy then waits for the throttle */
    qtest_clock_step(c->qts, 10 * 1000 * 1000);
    del_cid = qnvme_submit(c, 0, &del);
    qnvme_assert_status(ar_wait_status(c, 1, copy),
                        QNVME_ST(NVME_SCT_GENERIC,
                                 NVME_SC_ABORTED_SQ_DELETION));
    qnvme_assert_ok(ar_wait_status(c, 0, del_cid));
    c->sq[1].live = false;
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- NVM Subsystem Reset ------------------------------------------------ */

/* After an NVM Subsystem Reset: RDY clears, NSSRO is set, CC is 0 */
static void ar_assert_subsys_reset(QNvmeCtrl *c)
{
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK, 0));
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, R_NVME_CSTS_NSSRO_MASK);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CC), ==, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_AQA), ==, 0);
    qnvme_reset_driver_queues(c);
    c->sq[0].live = c->cq[0].live = false;
}

/* The host enables the controller again; NSSRO stays until it clears it */
static void ar_reenable(QNvmeCtrl *c)
{
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_NSSRO_MASK, ==,
                    R_NVME_CSTS_NSSRO_MASK);
    qnvme_writel(c, A_NVME_CSTS, R_NVME_CSTS_NSSRO_MASK);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
}

/* CAP.NSSRS is set; NSSR reads 0 and ignores any value but "NVMe" */
static void test_nssr_register(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    g_assert_cmphex(FIELD_EX64(qnvme_readq(c, A_NVME_CAP), NVME_CAP, NSSRS),
                    ==, 1);
    qnvme_writel(c, A_NVME_NSSR, 0x4e564d66);
    qnvme_writel(c, A_NVME_NSSR, NVME_NSSR_RESET >> 8);
    g_assert_cmphex(qnvme_readl(c, A_NVME_NSSR), ==, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
    /* CSTS is read-only but for NSSRO */
    qnvme_writel(c, A_NVME_CSTS, ~0u);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
    qnvme_write_pattern(c, 1, 1, 0, 8, 41);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 41);
    qnvme_shutdown(c);
}

/*
 * "NVMe" in one controller's NSSR resets every controller of the subsystem;
 * each comes back when its host enables it, with the data as it was
 */
static void test_nssr_resets_subsystem(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_TWO_CTRLS
                                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0",
                                 &c1);

    qnvme_write_pattern(c0, 1, 1, 0, 16, 43);
    qnvme_writel(c0, A_NVME_NSSR, NVME_NSSR_RESET);
    ar_assert_subsys_reset(c0);
    ar_assert_subsys_reset(c1);
    ar_reenable(c1);
    ar_reenable(c0);
    qnvme_assert_pattern(c1, 1, 1, 0, 16, 43);
    qnvme_assert_pattern(c0, 1, 1, 0, 16, 43);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/* A controller without subsys= is a subsystem of its own: only it resets */
static void test_nssr_own_subsystem(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(
        "-device nvme,id=c0," QNVME_ADDR ",serial=ar-a,drive=d0 "
        "-device nvme,id=c1," QNVME_ADDR2 ",serial=ar-b,drive=d1", &c1);

    qnvme_writel(c0, A_NVME_NSSR, NVME_NSSR_RESET);
    ar_assert_subsys_reset(c0);
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
    qnvme_write_pattern(c1, 1, 1, 0, 4, 44);
    qnvme_assert_pattern(c1, 1, 1, 0, 4, 44);
    ar_reenable(c0);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/*
 * With a read in flight on the other controller (throttled drive), that
 * controller's RDY stays 1 until the read's AIO is over, then clears; the
 * read is never completed (its queue is gone), and both come back.
 */
static void test_nssr_in_flight(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_SLOW_DRIVE AR_TWO_CTRLS
                                 "-device nvme-ns,drive=dt,nsid=1,subsys=s0",
                                 &c1);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);
    NvmeSqe cmd2 = qnvme_rw_cmd(NVME_IO_READ, 1, 1, 1);

    qnvme_set_prps(c1, &cmd, qnvme_alloc(c1, 512), 512);
    qnvme_set_prps(c1, &cmd2, qnvme_alloc(c1, 512), 512);
    qnvme_submit(c1, 1, &cmd);
    qnvme_submit(c1, 1, &cmd2);         /* throttled: still running */
    qtest_clock_step(c1->qts, 10 * 1000 * 1000);
    qnvme_writel(c0, A_NVME_NSSR, NVME_NSSR_RESET);
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS), ==,
                    R_NVME_CSTS_NSSRO_MASK | R_NVME_CSTS_RDY_MASK);
    for (int i = 0; i < 100 && (qnvme_readl(c1, A_NVME_CSTS) &
                                R_NVME_CSTS_RDY_MASK); i++) {
        qtest_clock_step(c1->qts, 100 * 1000 * 1000);
    }
    ar_assert_subsys_reset(c1);
    ar_assert_subsys_reset(c0);
    ar_reenable(c0);
    ar_reenable(c1);
    qnvme_assert_ok(qnvme_read_blocks(c1, 1, 1, 0, 1));
    qnvme_assert_alive(c0);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/* QMP nvme-subsys-reset does it from the host side; a bad id changes nothing */
static void test_nssr_qmp(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_TWO_CTRLS
                                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0",
                                 &c1);
    QDict *rsp;

    rsp = qtest_qmp(c0->qts, "{ 'execute': 'nvme-subsys-reset', "
                    "'arguments': { 'id': 'nosuch' } }");
    g_assert_true(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), "nosuch"));
    qobject_unref(rsp);
    g_assert_cmphex(qnvme_readl(c0, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);

    rsp = qtest_qmp(c0->qts, "{ 'execute': 'nvme-subsys-reset', "
                    "'arguments': { 'id': 's0' } }");
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    ar_assert_subsys_reset(c0);
    ar_assert_subsys_reset(c1);
    ar_reenable(c0);
    ar_reenable(c1);
    qnvme_write_pattern(c1, 1, 1, 0, 4, 45);
    qnvme_assert_pattern(c0, 1, 1, 0, 4, 45);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/* HMP nvme_subsys_reset wraps it, errors included */
static void test_nssr_hmp(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_TWO_CTRLS
                                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0",
                                 &c1);
    g_autofree char *bad = qtest_hmp(c0->qts, "nvme_subsys_reset nosuch");
    g_autofree char *good = NULL;

    g_assert_nonnull(strstr(bad, "nosuch"));
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS), ==, R_NVME_CSTS_RDY_MASK);
    good = qtest_hmp(c0->qts, "nvme_subsys_reset c1");
    g_assert_cmpstr(good, ==, "");
    ar_assert_subsys_reset(c0);
    ar_assert_subsys_reset(c1);
    ar_reenable(c0);
    ar_reenable(c1);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/*
 * A completion of c1 whose MSI-X message is aimed at c0's NSSR: the
 * subsystem reset then starts inside c1's own completion code, and c1's
 * queues must outlive it (they are freed from c1's bottom half later).
 */
static void test_nssr_from_msix(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = ar_boot_pair(AR_TWO_CTRLS
                                 "-device nvme-ns,drive=d0,nsid=1,subsys=s0",
                                 &c1);
    uint64_t entry = c1->pdev->msix_table_off + 1 * PCI_MSIX_ENTRY_SIZE;
    uint64_t nssr = c0->bar.addr + A_NVME_NSSR;
    uint16_t cids[4];

    qnvme_msix_enable(c1);
    qpci_io_writel(c1->pdev, c1->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)nssr);
    qpci_io_writel(c1->pdev, c1->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, nssr >> 32);
    qpci_io_writel(c1->pdev, c1->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_DATA, NVME_NSSR_RESET);
    qpci_io_writel(c1->pdev, c1->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    qnvme_assert_ok(qnvme_create_cq(c1, &(QNvmeCreateQ){
                        .qid = 2, .entries = 16, .vector = 1, .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(c1, &(QNvmeCreateQ){
                        .qid = 2, .entries = 16, .cqid = 2 }));
    for (int i = 0; i < 4; i++) {
        NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, i, 1);

        qnvme_set_prps(c1, &cmd, qnvme_alloc(c1, 512), 512);
        cids[i] = qnvme_submit(c1, 2, &cmd);
    }
    g_assert_true(cids[3]);
    ar_assert_subsys_reset(c1);
    ar_assert_subsys_reset(c0);
    /* masked from now on: the next completions would reset them again */
    qpci_io_writel(c1->pdev, c1->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   PCI_MSIX_ENTRY_CTRL_MASKBIT);
    ar_reenable(c0);
    ar_reenable(c1);
    qnvme_write_pattern(c1, 1, 1, 0, 4, 46);
    qnvme_assert_pattern(c0, 1, 1, 0, 4, 46);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvme-array/uncorr/reads-fail", test_uncorr_reads_fail);
    qtest_add_func("/nvme-array/uncorr/deallocate", test_uncorr_deallocate);
    qtest_add_func("/nvme-array/uncorr/shared", test_uncorr_shared);
    qtest_add_func("/nvme-array/uncorr/bounded", test_uncorr_bounded);
    qtest_add_func("/nvme-array/copy/identify", test_copy_identify);
    qtest_add_func("/nvme-array/copy/data", test_copy_data);
    qtest_add_func("/nvme-array/copy/limits", test_copy_limits);
    qtest_add_func("/nvme-array/copy/uncorrectable", test_copy_uncorrectable);
    qtest_add_func("/nvme-array/copy/delete-sq", test_copy_delete_sq);
    qtest_add_func("/nvme-array/nssr/register", test_nssr_register);
    qtest_add_func("/nvme-array/nssr/resets-subsystem",
                   test_nssr_resets_subsystem);
    qtest_add_func("/nvme-array/nssr/own-subsystem", test_nssr_own_subsystem);
    qtest_add_func("/nvme-array/nssr/in-flight", test_nssr_in_flight);
    qtest_add_func("/nvme-array/nssr/qmp", test_nssr_qmp);
    qtest_add_func("/nvme-array/nssr/hmp", test_nssr_hmp);
    qtest_add_func("/nvme-array/nssr/from-msix", test_nssr_from_msix);
    return g_test_run();
}
