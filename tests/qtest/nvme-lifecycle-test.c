/*
 * qtests of the request lifecycle: what a hostile guest (or a monitor user)
 * can do to commands in flight. Queues deleted, controllers reset, paths
 * detached and devices unplugged while multi-step commands run; bottom
 * halves nested in drains; MSI-X aimed at our own registers; scatter
 * lists that never end; completion queues the host never reads. Each test
 * checks the statuses the spec names, that QEMU stays alive and that its
 * memory stays bounded.
 *
 * Slow backends make the races deterministic: throttling in virtual time
 * (the test steps the clock), or null-co latency-ns in real time where a
 * stall of the whole VM is the point.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

#define LC_STEP_NS          (50 * 1000 * 1000)  /* virtual time per poll */
#define LC_WAIT_US          (20 * G_USEC_PER_SEC)

/* Throttled to one request per second of virtual time */
#define LC_SLOW_DRIVE \
    "-drive if=none,id=dt,driver=null-co,read-zeroes=on,size=64M," \
    "throttling.iops-total=1 "

/* Every request takes 300 ms of real time: a drain would poll meanwhile */
#define LC_LATE_DRIVE \
    "-drive if=none,id=dl,driver=null-co,read-zeroes=on,size=16M," \
    "latency-ns=300000000 "

/* ---- helpers ------------------------------------------------------------ */

/* Wait for @cid on @cqid, letting virtual time run in big steps */
static bool lc_wait(QNvmeCtrl *c, uint16_t cqid, uint16_t cid, NvmeCqe *cqe)
{
    return qnvme_wait_cid_step(c, cqid, cid, cqe, LC_WAIT_US, LC_STEP_NS);
}

static uint16_t lc_wait_status(QNvmeCtrl *c, uint16_t cqid, uint16_t cid)
{
    return qnvme_wait_status_step(c, cqid, cid, LC_WAIT_US, LC_STEP_NS);
}

/* Put @cmd on SQ @sqid without ringing its doorbell; returns its CID */
static uint16_t lc_queue(QNvmeCtrl *c, uint16_t sqid, NvmeSqe *cmd)
{
    QNvmeQueue *sq = &c->sq[sqid];
    NvmeSqe le;

    cmd->cid = c->next_cid++;
    qnvme_sqe_to_le(&le, cmd);
    qtest_memwrite(c->qts, sq->addr + sq->ptr * sizeof(NvmeSqe), &le,
                   sizeof(le));
    sq->ptr = (sq->ptr + 1) % sq->entries;
    return cmd->cid;
}

static void lc_ring(QNvmeCtrl *c, uint16_t sqid)
{
    qnvme_ring(c, qnvme_sq_db(sqid), c->sq[sqid].ptr);
}

/* A Read of @nlb blocks at @slba of namespace 1 into fresh guest memory */
static uint16_t lc_submit_read(QNvmeCtrl *c, uint16_t sqid, uint64_t slba,
                               uint32_t nlb)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, slba, nlb);

    qnvme_set_prps(c, &cmd, qnvme_alloc(c, nlb * 512), nlb * 512);
    return qnvme_submit(c, sqid, &cmd);
}

static uint16_t lc_submit_verify(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                                 uint32_t nlb)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_VERIFY, nsid, 0, nlb);

    return qnvme_submit(c, sqid, &cmd);
}

static uint16_t lc_submit_delete_sq(QNvmeCtrl *c, uint16_t qid)
{
    NvmeSqe cmd = { .opcode = NVME_ADM_DELETE_SQ, .cdw10 = qid };

    return qnvme_submit(c, 0, &cmd);
}

/* Resident memory of the QEMU process, KiB */
static long lc_rss_kib(QNvmeCtrl *c)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            (int)qtest_pid(c->qts));
    g_autofree char *text = NULL;
    const char *end;
    char *line;
    long kib;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, "VmRSS:");
    g_assert_nonnull(line);
    g_assert_cmpint(qemu_strtol(line + strlen("VmRSS:"), &end, 10, &kib),
                    ==, 0);
    return kib;
}

/* QMP answers: the main loop is not stuck */
static void lc_assert_qmp_alive(QNvmeCtrl *c)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

static bool lc_vm_running(QNvmeCtrl *c)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'query-status'}");
    bool running = qdict_get_bool(qdict_get_qdict(rsp, "return"), "running");

    qobject_unref(rsp);
    return running;
}

/* After all of it, the controller still does real work */
static void lc_assert_io_works(QNvmeCtrl *c, uint16_t qid)
{
    uint8_t buf[512];

    qnvme_assert_ok(qnvme_read(c, qid, 1, 0, 1, buf, sizeof(buf)));
    qnvme_assert_alive(c);
}

/* A fresh I/O queue pair @qid after the old one went */
static void lc_recreate_pair(QNvmeCtrl *c, uint16_t qid)
{
    if (c->cq[qid].live) {
        qnvme_assert_ok(qnvme_delete_q(c, NVME_ADM_DELETE_CQ, qid));
    }
    qnvme_create_ioq_pair(c, qid, QNVME_IOQ_ENTRIES);
}

/*
 * Boot an i440fx machine (ACPI PCI hot-plug on its root bus, which q35's
 * pcie.0 lacks) with the controller in QNVME_SLOT.
 */
static QNvmeCtrl *lc_boot_pc(const char *devs)
{
    QNvmeCtrl *c = qnvme_boot_machine("pc", devs);

    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    return c;
}

/* ---- teardown waits for its own requests (issue items 1 and 3) ----------- */

/*
 * A Verify reads its range a piece at a time, each piece issued from the
 * completion of the one before. Delete I/O SQ in the middle: the Verify
 * ends at its next step, aborted; the Delete completes after it.
 */
static void test_verify_then_delete_sq(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=slow,drive=dt");
    uint16_t verify = lc_submit_verify(c, 1, 1, 8192);    /* 4 MiB */
    uint16_t del;
    NvmeCqe cqe;

    qtest_clock_step(c->qts, 1500 * 1000 * 1000ll);   /* a step or two */
    qnvme_assert_pending(c, 1, verify);
    del = lc_submit_delete_sq(c, 1);
    qnvme_assert_ok(lc_wait_status(c, 0, del));
    /* base 5.7: the queue's completions come before the Delete's */
    g_assert_true(qnvme_cq_peek(c, 1, &cqe));
    g_assert_cmpuint(cqe.cid, ==, verify);
    qnvme_assert_status(qnvme_cqe_status(&cqe),
                        QNVME_ST(NVME_SCT_GENERIC,
                                 NVME_SC_ABORTED_SQ_DELETION));
    qnvme_cq_pop(c, 1, true);
    g_assert_true(qnvme_cq_stays_empty(c, 1, QNVME_SHORT_US));
    c->sq[1].live = false;
    lc_recreate_pair(c, 1);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/*
 * The same Verify through a controller reset: nothing is posted, RDY
 * clears once its AIO is over, and the controller comes back.
 */
static void test_verify_then_reset(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=slow,drive=dt");
    uint64_t old_cq = c->cq[1].addr;
    uint8_t ring[QNVME_IOQ_ENTRIES * sizeof(NvmeCqe)];
    uint16_t verify = lc_submit_verify(c, 1, 1, 8192);

    qtest_clock_step(c->qts, 1500 * 1000 * 1000ll);
    qnvme_assert_pending(c, 1, verify);
    qnvme_writel(c, A_NVME_CC, 0);
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK, 0));
    /* the old CQ, as the reset left it: no completion was written */
    qtest_memread(c->qts, old_cq, ring, sizeof(ring));
    g_assert_true(qnvme_all_zero(ring, sizeof(ring)));
    qnvme_reset_driver_queues(c);
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/*
 * A controller reset with I/O in flight does not fetch: an AER put on
 * the admin queue while the reset waits is never taken, and nothing lands
 * in the old admin CQ.
 */
static void test_no_fetch_while_resetting(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=slow,drive=dt");
    uint64_t acq = c->cq[0].addr;
    NvmeSqe aer = { .opcode = NVME_ADM_ASYNC_EVENT };
    NvmeCqe before[QNVME_AQ_ENTRIES], after[QNVME_AQ_ENTRIES];

    lc_submit_read(c, 1, 0, 1);
    lc_submit_read(c, 1, 1, 1);     /* throttled: still running */
    qtest_memread(c->qts, acq, before, sizeof(before));
    qnvme_writel(c, A_NVME_CC, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_RDY_MASK, ==,
                    R_NVME_CSTS_RDY_MASK);      /* the reset waits */
    lc_queue(c, 0, &aer);
    lc_ring(c, 0);
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK, 0));
    qtest_clock_step(c->qts, 2 * (1000 * 1000 * 1000ll));
    qtest_memread(c->qts, acq, after, sizeof(after));
    g_assert_cmpmem(before, sizeof(before), after, sizeof(after));
    qnvme_reset_driver_queues(c);
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/*
 * One admin doorbell holding [Identify, Delete SQ 1, Delete SQ 1] with a
 * read in flight on SQ 1: the second Delete finds the queue being deleted
 * (Invalid Queue Identifier) instead of freeing it a second time.
 */
static void test_double_delete_sq(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_LATE_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=late,drive=dl");
    NvmeSqe id = { .opcode = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
    NvmeSqe del = { .opcode = NVME_ADM_DELETE_SQ, .cdw10 = 1 };
    uint16_t cid_id, cid_del1, cid_del2, read;

    read = lc_submit_read(c, 1, 0, 1);
    qnvme_set_prps(c, &id, qnvme_zalloc(c, NVME_IDENTIFY_SIZE),
                   NVME_IDENTIFY_SIZE);
    cid_id = lc_queue(c, 0, &id);
    cid_del1 = lc_queue(c, 0, &del);
    cid_del2 = lc_queue(c, 0, &del);
    lc_ring(c, 0);
    qnvme_assert_ok(lc_wait_status(c, 0, cid_id));
    qnvme_assert_status(lc_wait_status(c, 0, cid_del2),
                        QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC,
                                     NVME_SC_INVALID_QID));
    qnvme_assert_ok(lc_wait_status(c, 0, cid_del1));
    g_assert_true(lc_wait(c, 1, read, &(NvmeCqe) {}));
    c->sq[1].live = false;
    lc_recreate_pair(c, 1);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/*
 * Detach the namespace (Namespace Attachment) with a read in flight on it,
 * then delete the queue: the Delete still waits for the read.
 */
static void test_detach_then_delete_sq(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme-subsys,id=s0 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=a,subsys=s0 "
        "-device nvme-ns,drive=dt,nsid=1,subsys=s0");
    uint16_t read, del;
    NvmeCqe cqe;

    lc_submit_read(c, 1, 0, 1);
    read = lc_submit_read(c, 1, 1, 1);
    qnvme_assert_ok(qnvme_ns_attachment(c, NVME_NS_DETACH, 1, 1,
                                        (uint16_t[]) { 1 }, 1));
    qnvme_assert_pending(c, 1, read);
    del = lc_submit_delete_sq(c, 1);
    qnvme_assert_pending(c, 0, del);
    qnvme_assert_ok(lc_wait_status(c, 0, del));
    g_assert_true(lc_wait(c, 1, read, &cqe));
    qnvme_assert_ok(qnvme_cqe_status(&cqe));
    c->sq[1].live = false;
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* A read into the BIOS ROM is refused before any AIO: Data Transfer Error */
static void test_read_into_rom(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 128);   /* 64 KiB */
    uint8_t before[4096], after[4096];
    uint64_t rom = 0xfffc0000;

    qtest_memread(c->qts, rom, before, sizeof(before));
    qnvme_set_prps(c, &cmd, rom, 64 * KiB);
    qnvme_assert_status_any_dnr(qnvme_exec(c, 1, &cmd, NULL),
                                QNVME_ST(NVME_SCT_GENERIC,
                                         NVME_SC_DATA_TRANSFER_ERROR));
    qtest_memread(c->qts, rom, after, sizeof(after));
    g_assert_cmpmem(before, sizeof(before), after, sizeof(after));
    /* reading the ROM is fine: a Write from it */
    cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 0, 8);
    qnvme_set_prps(c, &cmd, rom, 4096);
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/* ---- a reset or Delete never stalls the VM (item 9) ---------------------- */

/*
 * A backend that takes 3 s of real time per request: Delete I/O SQ and
 * CC.EN=0 return at once, the monitor answers meanwhile, and both finish
 * once the request is over.
 */
static void test_slow_backend_no_stall(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(
        "-drive if=none,id=dl,driver=null-co,read-zeroes=on,size=16M,"
        "latency-ns=3000000000 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=lat,drive=dl");
    gint64 start;
    uint16_t del;

    lc_submit_read(c, 1, 0, 1);
    start = g_get_monotonic_time();
    del = lc_submit_delete_sq(c, 1);
    lc_assert_qmp_alive(c);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    qnvme_assert_ok(lc_wait_status(c, 0, del));
    c->sq[1].live = false;
    lc_recreate_pair(c, 1);

    lc_submit_read(c, 1, 0, 1);
    start = g_get_monotonic_time();
    qnvme_writel(c, A_NVME_CC, 0);
    lc_assert_qmp_alive(c);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK, 0));
    qnvme_shutdown(c);
}

/* ---- memory stays bounded (item 6) --------------------------------------- */

/*
 * 127 Verify commands of 1 MiB behind a CQ of 2 entries the host never
 * reads, and 127 Compares of 512 KiB: QEMU grows by a few MiB at most.
 */
static void test_unread_cq_memory(void)
{
    QNvmeCtrl *c = qnvme_boot(
        "-drive if=none,id=dz,driver=null-co,read-zeroes=on,size=1G "
        "-device nvme,id=c0," QNVME_ADDR ",serial=mem,drive=dz");
    uint64_t data = qnvme_zalloc(c, 512 * KiB);
    long before, after;

    qnvme_enable(c);
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 2 }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 256, .cqid = 1 }));
    before = lc_rss_kib(c);
    for (int i = 0; i < 127; i++) {
        lc_submit_verify(c, 1, 1, 2048);
    }
    for (int i = 0; i < 127; i++) {
        NvmeSqe cmp = qnvme_rw_cmd(NVME_IO_COMPARE, 1, i * 1024, 1024);

        qnvme_set_prps(c, &cmp, data, 512 * KiB);
        qnvme_submit(c, 1, &cmp);
    }
    qtest_clock_step(c->qts, (1000 * 1000 * 1000ll));
    for (int i = 0; i < 50; i++) {
        qtest_clock_step(c->qts, 10 * 1000 * 1000);
    }
    after = lc_rss_kib(c);
    g_test_message("QEMU RSS %ld KiB before, %ld KiB after", before, after);
    g_assert_cmpint(after - before, <, 24 * 1024);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/*
 * mdts=0 (no limit): one Compare of 32 MiB borrows 128 KiB at a time, and
 * nothing once it is done, even while its completion waits behind a full
 * CQ the host does not read.
 */
static void test_big_compare_memory(void)
{
    QNvmeCtrl *c = qnvme_boot(
        "-m 256M "
        "-drive if=none,id=dz,driver=null-co,read-zeroes=on,size=1G "
        "-device nvme,id=c0," QNVME_ADDR ",serial=mem,drive=dz,mdts=0");
    size_t len = 32 * MiB;
    uint64_t data = qnvme_zalloc(c, len);
    NvmeSqe cmp = qnvme_rw_cmd(NVME_IO_COMPARE, 1, 0, len / 512);
    uint16_t first, cid;
    long before, after;
    NvmeCqe cqe;

    qnvme_enable(c);
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 2 }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 16, .cqid = 1 }));
    first = lc_submit_read(c, 1, 0, 1);         /* fills the CQ */
    qnvme_set_prps(c, &cmp, data, len);
    before = lc_rss_kib(c);
    cid = qnvme_submit(c, 1, &cmp);
    for (int i = 0; i < 50; i++) {
        qtest_clock_step(c->qts, 10 * 1000 * 1000);
    }
    after = lc_rss_kib(c);
    g_test_message("QEMU RSS %ld KiB before, %ld KiB after", before, after);
    g_assert_cmpint(after - before, <, 16 * 1024);
    g_assert_true(lc_wait(c, 1, first, &cqe));
    qnvme_assert_ok(lc_wait_status(c, 1, cid));   /* zeroes == zeroes */
    /* and a mismatch is still found, in the last piece */
    qtest_memset(c->qts, data + len - 1, 1, 1);
    cid = qnvme_submit(c, 1, &cmp);
    qnvme_assert_status(lc_wait_status(c, 1, cid),
                        QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILURE));
    qnvme_shutdown(c);
}

/* ---- SGLs are bounded (item 5) ------------------------------------------- */

/*
 * A segment of zero-length Data Block descriptors whose last descriptor
 * chains back to the segment itself: Invalid Number of SGL Descriptors,
 * at once.
 */
static void test_sgl_self_loop(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSgl seg[16];
    uint64_t seg_addr = qnvme_zalloc(c, sizeof(seg));
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);
    gint64 start = g_get_monotonic_time();

    for (int i = 0; i < 15; i++) {
        seg[i] = qnvme_sgl(qnvme_alloc(c, 512), 0, NVME_SGL_DATA_BLOCK);
    }
    seg[15] = qnvme_sgl(seg_addr, sizeof(seg), NVME_SGL_SEGMENT);
    qtest_memwrite(c->qts, seg_addr, seg, sizeof(seg));
    qnvme_set_sgl(&cmd, seg_addr, sizeof(seg), NVME_SGL_SEGMENT);
    qnvme_assert_status_any_dnr(qnvme_exec(c, 1, &cmd, NULL),
                                QNVME_ST(NVME_SCT_GENERIC,
                                         NVME_SC_INVALID_SGL_COUNT));
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/* Byte-sized descriptors: 512 of them work, 8,192 are too many */
static void test_sgl_byte_descriptors(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    size_t n = 8192;
    NvmeSgl *descs = g_new(NvmeSgl, n);
    uint64_t list = qnvme_zalloc(c, n * sizeof(NvmeSgl));
    uint64_t buf = qnvme_zalloc(c, n);
    NvmeSqe cmd;

    for (size_t i = 0; i < n; i++) {
        descs[i] = qnvme_sgl(buf + i, 1, NVME_SGL_DATA_BLOCK);
    }
    qtest_memwrite(c->qts, list, descs, n * sizeof(NvmeSgl));
    cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);
    qnvme_set_sgl(&cmd, list, 512 * sizeof(NvmeSgl), NVME_SGL_LAST_SEGMENT);
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, n / 512);
    qnvme_set_sgl(&cmd, list, n * sizeof(NvmeSgl), NVME_SGL_LAST_SEGMENT);
    qnvme_assert_status_any_dnr(qnvme_exec(c, 1, &cmd, NULL),
                                QNVME_ST(NVME_SCT_GENERIC,
                                         NVME_SC_INVALID_SGL_COUNT));
    g_free(descs);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/* ---- MSI-X aimed at the controller's own registers (item 4) -------------- */

/*
 * Vector 1 writes 0 to our own CC. With shadow doorbells and ioeventfd,
 * a completion that waited for room in a full CQ is posted when the host
 * rings the CQ head doorbell (an eventfd): from a bottom half guarded
 * against MMIO to the device, so the write is refused and the controller
 * stays enabled (it used to reset in the middle of posting).
 */
static void test_msix_at_own_cc(void)
{
    QNvmeCtrl *c = qnvme_boot(
        "-device nvme,id=c0," QNVME_ADDR ",serial=msix,drive=d0,ioeventfd=on");
    NvmeSqe dbbuf = { .opcode = NVME_ADM_DBBUF_CONFIG };
    uint16_t cids[3];
    uint64_t entry;
    NvmeCqe cqe;

    qnvme_msix_enable(c);
    qnvme_enable(c);
    entry = c->pdev->msix_table_off + 1 * PCI_MSIX_ENTRY_SIZE;
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                   (uint32_t)(c->bar.addr + A_NVME_CC));
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, c->bar.addr >> 32);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_DATA, 0);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    dbbuf.dptr.prp1 = qnvme_page_zalloc(c, QNVME_PAGE);
    dbbuf.dptr.prp2 = qnvme_page_zalloc(c, QNVME_PAGE);
    qnvme_assert_ok(qnvme_admin(c, &dbbuf, NULL));
    c->dbbuf_dbs = dbbuf.dptr.prp1;
    /* one usable slot */
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 2, .vector = 1, .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 16, .cqid = 1 }));
    for (int i = 0; i < 3; i++) {
        cids[i] = lc_submit_read(c, 1, i, 1);
    }
    for (int n = 0; n < 3; n++) {
        gint64 deadline = g_get_monotonic_time() + QNVME_TIMEOUT_US;
        bool found = false;

        while (!qnvme_cq_peek(c, 1, &cqe) &&
               g_get_monotonic_time() < deadline) {
            qtest_clock_step(c->qts, QNVME_POLL_STEP_NS);
        }
        /* in any order: the backend completes them as it likes */
        for (int i = 0; i < 3; i++) {
            if (cids[i] && cqe.cid == cids[i]) {
                cids[i] = 0;
                found = true;
            }
        }
        g_assert_true(found);
        qnvme_assert_ok(qnvme_cqe_status(&cqe));
        qnvme_cq_pop(c, 1, true);    /* the head doorbell: an eventfd */
    }
    g_assert_cmphex(qnvme_readl(c, A_NVME_CC) & R_NVME_CC_EN_MASK, ==,
                    R_NVME_CC_EN_MASK);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_RDY_MASK, ==,
                    R_NVME_CSTS_RDY_MASK);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- werror=stop, Abort (item 8) ----------------------------------------- */

static char *lc_blkdebug_conf(const char *iotype)
{
    GError *err = NULL;
    char *path;
    int fd = g_file_open_tmp("qtest-nvme-blkdebug-XXXXXX.conf", &path, &err);
    g_autofree char *text = g_strdup_printf(
        "[inject-error]\nevent = \"none\"\niotype = \"%s\"\nerrno = \"5\"\n"
        "once = \"off\"\n", iotype);

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
    return path;
}

/*
 * A write stopped by werror=stop waits for the VM to run again. Delete I/O
 * SQ meanwhile ends it (Aborted due to SQ Deletion) and completes; when the
 * VM runs again nothing is retried.
 */
static void test_stopped_then_delete_sq(void)
{
    g_autofree char *conf = lc_blkdebug_conf("write");
    g_autofree char *devs = g_strdup_printf(
        "-drive if=none,id=de,format=raw,werror=stop,rerror=report,"
        "file.driver=blkdebug,file.config=%s,file.image.driver=null-co,"
        "file.image.size=16M "
        "-device nvme,id=c0," QNVME_ADDR ",serial=stop,drive=de", conf);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 0, 1);
    uint16_t write, del;

    qnvme_set_prps(c, &cmd, qnvme_zalloc(c, 512), 512);
    write = qnvme_submit(c, 1, &cmd);
    qtest_qmp_eventwait(c->qts, "STOP");
    g_assert_false(lc_vm_running(c));
    del = lc_submit_delete_sq(c, 1);
    qnvme_assert_ok(lc_wait_status(c, 0, del));
    g_assert_true(lc_wait(c, 1, write, &(NvmeCqe) {}));
    qobject_unref(qtest_qmp(c->qts, "{'execute': 'cont'}"));
    g_assert_true(qnvme_cq_stays_empty(c, 1, QNVME_SHORT_US));
    qnvme_assert_alive(c);
    unlink(conf);
    qnvme_shutdown(c);
}

/* The same through a controller reset: dropped, not retried */
static void test_stopped_then_reset(void)
{
    g_autofree char *conf = lc_blkdebug_conf("write");
    g_autofree char *devs = g_strdup_printf(
        "-drive if=none,id=de,format=raw,werror=stop,rerror=report,"
        "file.driver=blkdebug,file.config=%s,file.image.driver=null-co,"
        "file.image.size=16M "
        "-device nvme,id=c0," QNVME_ADDR ",serial=stop,drive=de", conf);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 0, 1);

    qnvme_set_prps(c, &cmd, qnvme_zalloc(c, 512), 512);
    qnvme_submit(c, 1, &cmd);
    qtest_qmp_eventwait(c->qts, "STOP");
    qnvme_disable(c);
    qobject_unref(qtest_qmp(c->qts, "{'execute': 'cont'}"));
    qnvme_enable(c);
    qnvme_assert_alive(c);
    unlink(conf);
    qnvme_shutdown(c);
}

static uint16_t lc_abort(QNvmeCtrl *c, uint16_t sqid, uint16_t cid,
                         uint32_t *dw0)
{
    NvmeSqe cmd = {
        .opcode = NVME_ADM_ABORT,
        .cdw10 = sqid | (uint32_t)cid << R_NVME_ABORT_DW10_CID_SHIFT,
    };
    NvmeCqe cqe;
    uint16_t st = qnvme_admin(c, &cmd, &cqe);

    *dw0 = cqe.dw0;
    return st;
}

/*
 * Abort of a running Verify: "aborted" (dw0 bit 0 clear), and the Verify
 * completes with Command Abort Requested. Of a CID that is not there:
 * "not aborted".
 */
static void test_abort_running(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=slow,drive=dt");
    uint16_t verify = lc_submit_verify(c, 1, 1, 8192);
    uint32_t dw0;

    qnvme_assert_ok(lc_abort(c, 1, verify, &dw0));
    g_assert_cmphex(dw0 & 1, ==, 0);
    qnvme_assert_status(lc_wait_status(c, 1, verify),
                        QNVME_ST(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED));
    qnvme_assert_ok(lc_abort(c, 1, 0x7777, &dw0));
    g_assert_cmphex(dw0 & 1, ==, 1);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/* Abort of a write stopped by werror=stop ends it at once */
static void test_abort_stopped(void)
{
    g_autofree char *conf = lc_blkdebug_conf("write");
    g_autofree char *devs = g_strdup_printf(
        "-drive if=none,id=de,format=raw,werror=stop,rerror=report,"
        "file.driver=blkdebug,file.config=%s,file.image.driver=null-co,"
        "file.image.size=16M "
        "-device nvme,id=c0," QNVME_ADDR ",serial=stop,drive=de", conf);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 0, 1);
    uint16_t write;
    uint32_t dw0;

    qnvme_set_prps(c, &cmd, qnvme_zalloc(c, 512), 512);
    write = qnvme_submit(c, 1, &cmd);
    qtest_qmp_eventwait(c->qts, "STOP");
    qnvme_assert_ok(lc_abort(c, 1, write, &dw0));
    g_assert_cmphex(dw0 & 1, ==, 0);
    qnvme_assert_status(lc_wait_status(c, 1, write),
                        QNVME_ST(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED));
    qobject_unref(qtest_qmp(c->qts, "{'execute': 'cont'}"));
    g_assert_true(qnvme_cq_stays_empty(c, 1, QNVME_SHORT_US));
    qnvme_assert_alive(c);
    unlink(conf);
    qnvme_shutdown(c);
}

/* ---- Format against detach and unplug (item 8) --------------------------- */

static NvmeSqe lc_format_cmd(uint32_t nsid, unsigned lbaf)
{
    return (NvmeSqe) {
        .opcode = NVME_ADM_FORMAT_NVM, .nsid = nsid,
        .cdw10 = lbaf | (NVME_FORMAT_SES_USER_DATA <<
                         R_NVME_FORMAT_DW10_SES_SHIFT),
    };
}

/*
 * Format of a shared namespace detached from the formatting controller
 * mid-way: it still ends, and the namespace is not left formatting (the
 * other controller's I/O works, Identify says ready).
 */
static void test_format_then_detach(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with(LC_SLOW_DRIVE
        "-device nvme-subsys,id=s0 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=a,subsys=s0 "
        "-device nvme,id=c1," QNVME_ADDR2 ",serial=b,subsys=s0 "
        "-device nvme-ns,drive=dt,nsid=1,subsys=s0");
    QNvmeCtrl *c1 = qnvme_attach(c, QNVME_SLOT2);
    NvmeSqe fmt = lc_format_cmd(1, 0);
    uint16_t cid;
    NvmeIdNsIndep indep;

    qnvme_enable(c1);
    qnvme_create_ioq_pair(c1, 1, QNVME_IOQ_ENTRIES);
    lc_submit_read(c, 1, 0, 1);        /* the throttle's first slot */
    cid = qnvme_submit(c, 0, &fmt);
    qnvme_assert_ok(qnvme_ns_attachment(c, NVME_NS_DETACH, 1, 1,
                                        (uint16_t[]) { 1 }, 1));
    qnvme_assert_ok(lc_wait_status(c, 0, cid));
    qnvme_assert_ok(qnvme_identify(c1, &(QNvmeIdentify){
                        .cns = NVME_CNS_CS_INDEP_NS, .nsid = 1 }, &indep));
    g_assert_cmphex(indep.nstat & NVME_NSTAT_READY, ==, NVME_NSTAT_READY);
    lc_assert_io_works(c1, 1);
    qnvme_shutdown(c1);
    qnvme_shutdown(c);
}

/*
 * Unplug the controller while a Format and a Verify of its namespace run:
 * the unplug waits for them, QEMU stays up, and a new controller in the
 * slot works (on another drive: -drive backends go with their device).
 */
static void test_unplug_in_flight(void)
{
    QNvmeCtrl *c = lc_boot_pc(LC_SLOW_DRIVE
        "-device nvme,id=c0," QNVME_ADDR ",serial=hp,drive=dt");
    NvmeSqe fmt = lc_format_cmd(1, 0);

    lc_submit_verify(c, 1, 1, 8192);
    qnvme_submit(c, 0, &fmt);
    qtest_clock_step(c->qts, 1500 * 1000 * 1000ll);
    qpci_unplug_acpi_device_test(c->qts, "c0", QNVME_SLOT);
    qtest_qmp_device_add(c->qts, "nvme", "c0b",
                         "{'addr': '4.0', 'serial': 'again', 'drive': 'd1'}");
    g_free(c->pdev);
    qnvme_probe(c, QNVME_SLOT);
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    lc_assert_io_works(c, 1);
    qnvme_shutdown(c);
}

/* ---- device_add failures leave the VM running (item 7) ------------------- */

static void test_device_add_bad_ns(void)
{
    QNvmeCtrl *c = qnvme_boot(
        "-drive if=none,id=dx,driver=null-co,size=16M "
        "-device pcie-root-port,id=rp0,bus=pcie.0,addr=6.0,chassis=1 "
        QNVME_DEFAULT_DEV);
    QDict *rsp;

    rsp = qtest_qmp(c->qts, "{'execute': 'device_add', 'arguments': {"
                    "'driver': 'nvme', 'bus': 'rp0', 'serial': 'x', "
                    "'drive': 'dx', 'logical_block_size': 1024}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    lc_assert_qmp_alive(c);
    /* the drive was let go: a good controller can take it */
    rsp = qtest_qmp(c->qts, "{'execute': 'device_add', 'arguments': {"
                    "'driver': 'nvme', 'bus': 'rp0', 'serial': 'y', "
                    "'drive': 'dx', 'id': 'good'}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qnvme_enable(c);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

int main(int argc, char **argv)
{
    static const QNvmeTest tests[] = {
        { "teardown/verify-then-delete-sq", test_verify_then_delete_sq },
        { "teardown/verify-then-reset", test_verify_then_reset },
        { "teardown/no-fetch-while-resetting", test_no_fetch_while_resetting },
        { "teardown/double-delete-sq", test_double_delete_sq },
        { "teardown/detach-then-delete-sq", test_detach_then_delete_sq },
        { "teardown/read-into-rom", test_read_into_rom },
        { "teardown/slow-backend-no-stall", test_slow_backend_no_stall },
        { "teardown/stopped-then-delete-sq", test_stopped_then_delete_sq },
        { "teardown/stopped-then-reset", test_stopped_then_reset },
        { "teardown/format-then-detach", test_format_then_detach },
        { "teardown/unplug-in-flight", test_unplug_in_flight },
        { "abort/running", test_abort_running },
        { "abort/stopped", test_abort_stopped },
        { "memory/unread-cq", test_unread_cq_memory },
        { "memory/big-compare", test_big_compare_memory },
        { "sgl/self-loop", test_sgl_self_loop },
        { "sgl/byte-descriptors", test_sgl_byte_descriptors },
        { "msix/at-own-cc", test_msix_at_own_cc },
        { "monitor/device-add-bad-ns", test_device_add_bad_ns },
    };

    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme-lifecycle", tests, ARRAY_SIZE(tests));
    return g_test_run();
}
