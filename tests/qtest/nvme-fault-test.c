/*
 * qtests of faults injected from the monitor (QMP nvme-fault-inject,
 * nvme-fault-remove, query-nvme-faults, the NVME_FAULT event, and their
 * HMP wrappers): the exact statuses, logs and events of each kind, through
 * the faulty path and through the healthy one, their ends (removed, count,
 * duration, reset, unplug), and bad input refused without a change.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qapi/error.h"
#include "libqos/pci-pc.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

#define FL_PATH_ERR QNVME_ST(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE)
#define FL_URE      QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ)
#define FL_WF       QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT)
#define FL_WP       QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED)
#define FL_ABORTED  QNVME_ST(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED)

#define FL_DEVS \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=fl-a,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=fl-b,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0"

/* ---- the monitor -------------------------------------------------------- */

/* nvme-fault-inject with the arguments @args (JSON): the fault's number */
static uint32_t fl_inject(QNvmeCtrl *c, const char *args)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'nvme-fault-inject', "
                           "'arguments': %p}",
                           qobject_from_json(args, &error_abort));
    QDict *ret = qdict_get_qdict(rsp, "return");
    uint32_t num;

    g_assert_nonnull(ret);
    num = qdict_get_int(ret, "fault");
    g_assert_cmpuint(num, >=, 1);
    g_assert_cmpuint(qdict_get_int(ret, "hits"), ==, 0);
    qobject_unref(rsp);
    return num;
}

/* nvme-fault-inject with @args fails with a message holding @words */
static void fl_inject_fails(QNvmeCtrl *c, const char *args, const char *words)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'nvme-fault-inject', "
                           "'arguments': %p}",
                           qobject_from_json(args, &error_abort));
    QDict *err = qdict_get_qdict(rsp, "error");
    const char *desc;

    g_assert_nonnull(err);
    desc = qdict_get_str(err, "desc");
    if (!strstr(desc, words)) {
        g_test_message("'%s': error '%s' lacks '%s'", args, desc, words);
        g_test_fail();
    }
    qobject_unref(rsp);
}

static void fl_remove(QNvmeCtrl *c, uint32_t num)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'nvme-fault-remove', "
                           "'arguments': {'fault': %u}}", num);

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/* query-nvme-faults: the number of active faults, and fault @num's hits */
static unsigned fl_query(QNvmeCtrl *c, uint32_t num, int64_t *hits)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'query-nvme-faults'}");
    QList *list = qdict_get_qlist(rsp, "return");
    const QListEntry *e;
    unsigned n = 0;

    *hits = -1;
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *f = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(f, "fault") == num) {
            *hits = qdict_get_int(f, "hits");
        }
        n++;
    }
    qobject_unref(rsp);
    return n;
}

static unsigned fl_active(QNvmeCtrl *c)
{
    int64_t hits;

    return fl_query(c, 0, &hits);
}

static int64_t fl_hits(QNvmeCtrl *c, uint32_t num)
{
    int64_t hits;

    fl_query(c, num, &hits);
    return hits;
}

/* The next NVME_FAULT event: fault @num started, or ended for @reason */
static void fl_event(QNvmeCtrl *c, uint32_t num, const char *reason)
{
    QDict *ev = qtest_qmp_eventwait_ref(c->qts, "NVME_FAULT");
    QDict *data = qdict_get_qdict(ev, "data");

    g_assert_cmpuint(qdict_get_int(data, "fault"), ==, num);
    g_assert_cmpint(qdict_get_bool(data, "active"), ==, !reason);
    if (reason) {
        g_assert_cmpstr(qdict_get_str(data, "reason"), ==, reason);
    } else {
        g_assert_false(qdict_haskey(data, "reason"));
    }
    qobject_unref(ev);
}

/* An HMP command's output, CR LF made LF */
static char *fl_hmp(QNvmeCtrl *c, const char *cmd)
{
    g_autofree char *out = qtest_hmp(c->qts, "%s", cmd);
    g_auto(GStrv) parts = g_strsplit(out, "\r", -1);

    return g_strjoinv("", parts);
}

/* ---- the device --------------------------------------------------------- */

static QNvmeCtrl *fl_boot_two(const char *machine, QNvmeCtrl **c1)
{
    QNvmeCtrl *c0 = machine ? qnvme_boot_machine(machine, FL_DEVS)
                            : qnvme_boot("%s", FL_DEVS);

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    *c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(*c1);
    qnvme_create_ioq_pair(*c1, 1, QNVME_IOQ_ENTRIES);
    return c0;
}

static void fl_shutdown(QNvmeCtrl *c0, QNvmeCtrl *c1)
{
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

static uint16_t fl_read(QNvmeCtrl *c, uint64_t slba, uint32_t nlb)
{
    return qnvme_read_blocks(c, 1, 1, slba, nlb);
}

static uint16_t fl_write(QNvmeCtrl *c, uint64_t slba)
{
    uint8_t data[512] = { 3 };

    return qnvme_write(c, 1, NVME_IO_WRITE, 1, slba, 1, data, sizeof(data));
}

/* A Read submitted on SQ 1, not waited for: its CID */
static uint16_t fl_submit_read(QNvmeCtrl *c)
{
    NvmeSqe rd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);

    qnvme_set_prps(c, &rd, qnvme_alloc(c, 512), 512);
    return qnvme_submit(c, 1, &rd);
}

/* ---- the tests ---------------------------------------------------------- */

/*
 * A path error on one controller: its I/O fails with 302h, the other path
 * and its admin commands work; removed, the path works again.
 */
static void test_status(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    uint32_t f = fl_inject(c0, "{'id': 'c0', 'kind': 'status', "
                               "'status': 770}");

    fl_event(c0, f, NULL);
    qnvme_assert_status(fl_read(c0, 0, 1), FL_PATH_ERR);
    qnvme_assert_status(fl_write(c0, 0), FL_PATH_ERR);
    qnvme_assert_ok(fl_read(c1, 0, 1));
    qnvme_assert_alive(c0);
    g_assert_cmpint(fl_hits(c0, f), ==, 2);
    fl_remove(c0, f);
    fl_event(c0, f, "removed");
    g_assert_cmpuint(fl_active(c0), ==, 0);
    qnvme_assert_ok(fl_read(c0, 0, 1));

    /* Namespace Not Ready with DNR, on the whole subsystem, twice only */
    f = fl_inject(c0, "{'id': 's0', 'kind': 'status', 'status': 130, "
                      "'dnr': true, 'count': 2, 'nsid': 1}");
    fl_event(c0, f, NULL);
    qnvme_assert_status(fl_read(c1, 0, 1),
                        QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY));
    qnvme_assert_status(fl_read(c0, 0, 1),
                        QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY));
    fl_event(c0, f, "count");
    qnvme_assert_ok(fl_read(c0, 0, 1));
    g_assert_cmpuint(fl_active(c0), ==, 0);
    fl_shutdown(c0, c1);
}

/*
 * Media faults: reads touching the range fail with Unrecovered Read Error,
 * writes with Write Fault; the error log names the first faulty LBA, the
 * SMART log counts them; a duration ends them.
 */
static void test_media(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeErrorLogEntry err;
    NvmeSmartLog smart;
    uint32_t rd, wr;

    rd = fl_inject(c0, "{'id': 's0', 'kind': 'media-read', 'nsid': 1, "
                       "'slba': 100, 'nlb': 10}");
    wr = fl_inject(c0, "{'id': 's0', 'kind': 'media-write', 'nsid': 1, "
                       "'slba': 200, 'nlb': 1, 'duration-ms': 1000}");
    qnvme_assert_ok(fl_read(c0, 95, 5));
    qnvme_assert_ok(fl_read(c1, 110, 5));
    qnvme_assert_status(fl_read(c1, 98, 4), FL_URE);
    qnvme_read_log(c1, NVME_LOG_ERROR, &err, sizeof(err));
    g_assert_cmpuint(le64_to_cpu(err.lba), ==, 100);
    qnvme_read_log(c1, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmpuint(le64_to_cpu(smart.media_errors[0]), ==, 1);
    qnvme_assert_status(qnvme_io_nodata(c0, 1, NVME_IO_VERIFY, 1, 109, 1),
                        FL_URE);
    qnvme_assert_ok(fl_write(c0, 100));             /* reads only */
    qnvme_assert_status(fl_write(c0, 200), FL_WF);
    qnvme_assert_status(qnvme_io_nodata(c1, 1, NVME_IO_WRITE_ZEROES, 1, 199,
                                        2), FL_WF);
    qnvme_assert_ok(fl_read(c0, 200, 1));
    g_assert_cmpint(fl_hits(c0, rd), ==, 2);
    g_assert_cmpint(fl_hits(c0, wr), ==, 2);

    /* a second of virtual time: the write fault is over */
    fl_event(c0, rd, NULL);
    fl_event(c0, wr, NULL);
    qtest_clock_step(c0->qts, 1100 * 1000 * 1000ll);
    fl_event(c0, wr, "duration");
    qnvme_assert_ok(fl_write(c0, 200));
    g_assert_cmpuint(fl_active(c0), ==, 1);
    fl_shutdown(c0, c1);
}

/*
 * Write protection: NSATTR says so on every controller, with a notice;
 * writes fail with Namespace Is Write Protected, reads go on.
 */
static void test_write_protect(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    uint16_t aer;
    NvmeIdNs id;
    uint32_t f;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c0);
    f = fl_inject(c0, "{'id': 'c1', 'kind': 'write-protect', 'nsid': 1}");
    qnvme_assert_aer(c0, aer, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_identify_ns(c0, 1, &id);
    g_assert_cmpuint(id.nsattr, ==, 1);
    qnvme_identify_ns(c1, 1, &id);
    g_assert_cmpuint(id.nsattr, ==, 1);
    qnvme_assert_status(fl_write(c0, 0), FL_WP);
    qnvme_assert_status(fl_write(c1, 0), FL_WP);
    qnvme_assert_ok(fl_read(c0, 0, 1));
    fl_inject_fails(c0, "{'id': 's0', 'kind': 'write-protect', 'nsid': 1}",
                    "does that already");

    qnvme_read_log(c0, NVME_LOG_CHANGED_NS, &id, 4);    /* RAE 0 */
    aer = qnvme_aer_submit(c0);
    fl_remove(c0, f);
    qnvme_assert_aer(c0, aer, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_identify_ns(c1, 1, &id);
    g_assert_cmpuint(id.nsattr, ==, 0);
    qnvme_assert_ok(fl_write(c1, 0));
    fl_shutdown(c0, c1);
}

/*
 * Latency: a command starts latency-ms later; an Abort ends the wait, and
 * so do Delete SQ and a reset.
 */
static void test_latency(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeSqe abort_cmd = { .opcode = NVME_ADM_ABORT };
    uint32_t f = fl_inject(c0, "{'id': 'c0', 'kind': 'latency', "
                               "'latency-ms': 500}");
    NvmeCqe cqe;
    uint16_t cid;

    cid = fl_submit_read(c0);
    qtest_clock_step(c0->qts, 400 * 1000 * 1000ll);
    g_assert_false(qnvme_wait_cid(c0, 1, cid, &cqe, 100 * 1000));
    qtest_clock_step(c0->qts, 200 * 1000 * 1000ll);
    qnvme_assert_ok(qnvme_wait_status_step(c0, 1, cid, 5 * G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));
    qnvme_assert_ok(fl_read(c1, 0, 1));         /* the other path: none */
    fl_remove(c0, f);

    /* ten seconds: the host gives up and aborts it */
    f = fl_inject(c0, "{'id': 'c0', 'kind': 'latency', "
                      "'latency-ms': 10000, 'nsid': 1}");
    cid = fl_submit_read(c0);
    abort_cmd.cdw10 = 1 | (uint32_t)cid << 16;
    qtest_clock_step(c0->qts, 100 * 1000 * 1000ll);
    qnvme_assert_ok(qnvme_admin(c0, &abort_cmd, &cqe));
    g_assert_cmpuint(cqe.dw0 & 1, ==, 0);       /* aborted */
    qnvme_assert_status(qnvme_wait_status_step(c0, 1, cid, G_USEC_PER_SEC,
                                               QNVME_POLL_STEP_NS),
                        FL_ABORTED);
    /* one waits while its queue is deleted, one while the controller resets */
    fl_submit_read(c0);
    qnvme_assert_ok(qnvme_delete_q(c0, NVME_ADM_DELETE_SQ, 1));
    qnvme_create_sq(c0, &(QNvmeCreateQ){ .qid = 1, .cqid = 1,
                                         .entries = QNVME_IOQ_ENTRIES });
    fl_submit_read(c0);
    qnvme_disable(c0);
    qnvme_enable(c0);
    qnvme_assert_alive(c0);
    g_assert_cmpint(fl_hits(c0, f), ==, 3);
    fl_shutdown(c0, c1);
}

/*
 * A stalled controller takes no command, admin ones included, until the
 * stall is removed or the controller is reset.
 */
static void test_stall(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeSqe ident = { .opcode = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
    uint32_t f = fl_inject(c0, "{'id': 'c0', 'kind': 'stall'}");
    uint16_t rd, adm;
    NvmeCqe cqe;

    fl_event(c0, f, NULL);
    rd = fl_submit_read(c0);
    qnvme_set_prps(c0, &ident, qnvme_alloc(c0, 4096), 4096);
    adm = qnvme_submit(c0, 0, &ident);
    qtest_clock_step(c0->qts, 5000 * 1000 * 1000ll);
    g_assert_false(qnvme_wait_cid(c0, 1, rd, &cqe, 200 * 1000));
    g_assert_false(qnvme_wait_cid(c0, 0, adm, &cqe, 200 * 1000));
    qnvme_assert_ok(fl_read(c1, 0, 1));
    g_assert_cmphex(qnvme_readl(c0, 0x1c) & 3, ==, 1);  /* RDY, no CFS */
    fl_remove(c0, f);
    fl_event(c0, f, "removed");
    qnvme_assert_ok(qnvme_wait_status_step(c0, 1, rd, 5 * G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));
    qnvme_assert_ok(qnvme_wait_status_step(c0, 0, adm, 5 * G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));

    /* what a host does about it: a reset, which ends the stall */
    f = fl_inject(c0, "{'id': 'c0', 'kind': 'stall'}");
    fl_event(c0, f, NULL);
    fl_submit_read(c0);
    qnvme_disable(c0);
    fl_event(c0, f, "reset");
    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_ok(fl_read(c0, 0, 1));
    g_assert_cmpuint(fl_active(c0), ==, 0);
    fl_shutdown(c0, c1);
}

/* A command whose delay ends during a stall waits for the stall's end */
static void test_latency_then_stall(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeCqe cqe;
    uint32_t stall;
    uint16_t cid;

    fl_inject(c0, "{'id': 'c0', 'kind': 'latency', 'latency-ms': 100}");
    cid = fl_submit_read(c0);
    qtest_clock_step(c0->qts, 10 * 1000 * 1000ll);
    stall = fl_inject(c0, "{'id': 'c0', 'kind': 'stall'}");
    qtest_clock_step(c0->qts, 500 * 1000 * 1000ll);
    g_assert_false(qnvme_wait_cid(c0, 1, cid, &cqe, 100 * 1000));
    fl_remove(c0, stall);
    qnvme_assert_ok(qnvme_wait_status_step(c0, 1, cid, G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));

    /* the same with Controller Fatal Status, removed before any reset */
    cid = fl_submit_read(c0);
    qtest_clock_step(c0->qts, 10 * 1000 * 1000ll);
    stall = fl_inject(c0, "{'id': 'c0', 'kind': 'cfs'}");
    qtest_clock_step(c0->qts, 500 * 1000 * 1000ll);
    g_assert_false(qnvme_wait_cid(c0, 1, cid, &cqe, 100 * 1000));
    fl_remove(c0, stall);
    qnvme_assert_ok(qnvme_wait_status_step(c0, 1, cid, G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));
    fl_shutdown(c0, c1);
}

/* Controller Fatal Status until the host resets the controller */
static void test_cfs(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    uint32_t f = fl_inject(c0, "{'id': 'c1', 'kind': 'cfs'}");
    NvmeCqe cqe;
    uint16_t rd;

    fl_event(c0, f, NULL);
    g_assert_cmphex(qnvme_readl(c1, 0x1c) & 3, ==, 3);  /* RDY and CFS */
    rd = fl_submit_read(c1);
    g_assert_false(qnvme_wait_cid(c1, 1, rd, &cqe, 200 * 1000));
    qnvme_assert_ok(fl_read(c0, 0, 1));
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'stall'}", "not enabled");
    qnvme_disable(c1);
    fl_event(c0, f, "reset");
    g_assert_cmphex(qnvme_readl(c1, 0x1c) & 3, ==, 0);
    qnvme_enable(c1);
    qnvme_create_ioq_pair(c1, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_ok(fl_read(c1, 0, 1));

    /*
     * Removed before any reset: the controller goes on. The doorbell it
     * ignored while failed is seen with the next one.
     */
    f = fl_inject(c0, "{'id': 'c1', 'kind': 'cfs'}");
    fl_event(c0, f, NULL);
    rd = fl_submit_read(c1);
    fl_remove(c0, f);
    g_assert_cmphex(qnvme_readl(c1, 0x1c) & 3, ==, 1);
    qnvme_assert_ok(fl_read(c1, 0, 1));
    qnvme_assert_ok(qnvme_wait_status_step(c1, 1, rd, 5 * G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));
    fl_shutdown(c0, c1);
}

/* A SMART warning: the log says so and the enabled event reports it */
static void test_smart_warning(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeSmartLog smart;
    uint16_t aer;
    uint32_t f;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_SMART_WARN_SPARE);
    aer = qnvme_aer_submit(c0);
    f = fl_inject(c0, "{'id': 's0', 'kind': 'smart-warning', "
                      "'warning': 'spare'}");
    qnvme_assert_aer(c0, aer, NVME_AER_TYPE_SMART, NVME_AER_INFO_SMART_SPARE,
                     NVME_LOG_SMART);
    qnvme_read_log(c1, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmphex(smart.critical_warning, ==, NVME_SMART_WARN_SPARE);
    fl_remove(c0, f);
    qnvme_read_log(c0, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmphex(smart.critical_warning, ==, 0);

    /* on one controller only; not enabled there: no event, the log has it */
    f = fl_inject(c0, "{'id': 'c1', 'kind': 'smart-warning', "
                      "'warning': 'read-only'}");
    qnvme_read_log(c1, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmphex(smart.critical_warning, ==, NVME_SMART_WARN_READ_ONLY);
    qnvme_read_log(c0, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmphex(smart.critical_warning, ==, 0);
    fl_shutdown(c0, c1);
}

/* Bad input: a clear error, and nothing changes */
static void test_bad_input(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    static const struct {
        const char *args, *words;
    } bad[] = {
        { "{'id': 'nope', 'kind': 'stall'}", "no device with id 'nope'" },
        { "{'id': 'c0', 'kind': 'status'}", "needs 'status'" },
        { "{'id': 'c0', 'kind': 'status', 'status': 0}", "needs 'status'" },
        { "{'id': 'c0', 'kind': 'status', 'status': 2048}", "0x7ff" },
        { "{'id': 'c0', 'kind': 'media-read'}", "needs 'nsid'" },
        { "{'id': 'c0', 'kind': 'media-read', 'nsid': 9}", "no namespace 9" },
        { "{'id': 'c0', 'kind': 'media-read', 'nsid': 1, 'slba': 1048576}",
          "'slba' 1048576 is beyond" },
        { "{'id': 'c0', 'kind': 'media-read', 'nsid': 1, 'nlb': 0}",
          "'nlb' 0 does not fit" },
        { "{'id': 'c0', 'kind': 'media-read', 'nsid': 1, 'slba': 10, "
          "'nlb': 1048576}", "does not fit" },
        { "{'id': 'c0', 'kind': 'latency'}", "needs 'latency-ms'" },
        { "{'id': 'c0', 'kind': 'latency', 'latency-ms': 60001}", "60000" },
        { "{'id': 's0', 'kind': 'stall'}", "needs a controller id" },
        { "{'id': 'c0', 'kind': 'cfs', 'nsid': 1}", "'nsid' does not apply" },
        { "{'id': 'c0', 'kind': 'write-protect', 'nsid': 1, 'count': 1}",
          "'count' does not apply" },
        { "{'id': 'c0', 'kind': 'status', 'status': 6, 'count': 0}",
          "'count' must be at least 1" },
        { "{'id': 'c0', 'kind': 'status', 'status': 6, 'duration-ms': 0}",
          "'duration-ms' must be at least 1" },
        { "{'id': 'c0', 'kind': 'status', 'status': 6, 'warning': 'spare'}",
          "'warning' does not apply" },
        { "{'id': 'c0', 'kind': 'smart-warning'}", "needs 'warning'" },
        { "{'id': 'c0', 'kind': 'latency', 'latency-ms': 5, 'slba': 1}",
          "'slba/nlb' does not apply" },
    };
    QDict *rsp;
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        fl_inject_fails(c0, bad[i].args, bad[i].words);
    }
    g_assert_cmpuint(fl_active(c0), ==, 0);
    qnvme_assert_ok(fl_read(c0, 0, 1));
    rsp = qtest_qmp(c0->qts, "{'execute': 'nvme-fault-remove', "
                    "'arguments': {'fault': 4000}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);

    /* 64 faults at most per subsystem */
    for (i = 0; i < 64; i++) {
        fl_inject(c0, "{'id': 'c1', 'kind': 'latency', 'latency-ms': 1}");
    }
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'latency', 'latency-ms': 1}",
                    "remove one first");
    g_assert_cmpuint(fl_active(c0), ==, 64);
    fl_shutdown(c0, c1);
}

/* The HMP wrappers: inject, list, remove, and their errors */
static void test_hmp(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    g_autofree char *out = NULL;
    uint32_t num;

    out = fl_hmp(c0, "nvme_fault_inject c0 status status=0x302,count=5");
    g_assert_cmpint(sscanf(out, "fault %u injected: status on c0", &num), ==,
                    1);
    qnvme_assert_status(fl_read(c0, 0, 1), FL_PATH_ERR);
    g_free(out);
    out = fl_hmp(c0, "info nvme_faults");
    g_assert_nonnull(strstr(out, "status on c0, 1 hits, 4 to go"));
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject s0 media-read nsid=1,slba=8,nlb=8");
    g_assert_nonnull(strstr(out, "media-read on s0"));
    qnvme_assert_status(fl_read(c1, 8, 1), FL_URE);
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject c0 latency latency=5");
    g_assert_nonnull(strstr(out, "unknown option 'latency'"));
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject c0 jam");
    g_assert_nonnull(strstr(out, "unknown fault kind 'jam'"));
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject c0 status status=abc");
    g_assert_nonnull(strstr(out, "'status=abc': a number"));
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject c0 smart-warning warning=hot");
    g_assert_nonnull(strstr(out, "unknown warning 'hot'"));
    g_free(out);
    g_assert_cmpuint(fl_active(c0), ==, 2);
    out = g_strdup_printf("nvme_fault_remove %u", num);
    g_free(fl_hmp(c0, out));
    g_free(out);
    out = fl_hmp(c0, "info nvme_faults");
    g_assert_null(strstr(out, "status on c0"));
    g_assert_nonnull(strstr(out, "media-read on s0 nsid 1, 1 hits"));
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_remove 999");
    g_assert_nonnull(strstr(out, "no active NVMe fault 999"));
    qnvme_assert_ok(fl_read(c0, 0, 1));
    fl_shutdown(c0, c1);
}

/* Unplugging a controller ends its faults */
static void test_unplug(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two("pc", &c1);
    uint32_t f = fl_inject(c0, "{'id': 'c1', 'kind': 'latency', "
                               "'latency-ms': 10000}");
    uint32_t g = fl_inject(c0, "{'id': 's0', 'kind': 'status', "
                               "'status': 6}");

    fl_event(c0, f, NULL);
    fl_event(c0, g, NULL);
    fl_submit_read(c1);
    qnvme_shutdown(c1);
    /* (its NVME_FAULT event passes while libqtest waits for the unplug) */
    qpci_unplug_acpi_device_test(c0->qts, "c1", QNVME_SLOT2);
    g_assert_cmpuint(fl_active(c0), ==, 1);
    g_assert_cmpint(fl_hits(c0, f), ==, -1);
    qnvme_assert_status(fl_read(c0, 0, 1),
                        QNVME_ST(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
    qnvme_shutdown(c0);
}

/* Jitter: each delay falls between latency-ms and latency-ms + jitter-ms */
static void test_latency_jitter(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    NvmeCqe cqe;
    uint16_t cid;

    fl_inject(c0, "{'id': 'c0', 'kind': 'latency', 'latency-ms': 200, "
                  "'jitter-ms': 300}");
    fl_inject_fails(c0, "{'id': 'c0', 'kind': 'latency', 'latency-ms': 2, "
                        "'jitter-ms': 60001}", "'jitter-ms' is at most");
    fl_inject_fails(c0, "{'id': 'c0', 'kind': 'stall', 'jitter-ms': 2}",
                    "does not apply");
    for (unsigned i = 0; i < 4; i++) {
        cid = fl_submit_read(c0);
        qtest_clock_step(c0->qts, 190 * 1000 * 1000ll);
        g_assert_false(qnvme_wait_cid(c0, 1, cid, &cqe, 20 * 1000));
        qtest_clock_step(c0->qts, 320 * 1000 * 1000ll);
        qnvme_assert_ok(qnvme_wait_status_step(c0, 1, cid, G_USEC_PER_SEC,
                                               QNVME_POLL_STEP_NS));
    }
    fl_shutdown(c0, c1);
}

/* Notices on demand, with their log pages; errors change nothing */
static void test_event_inject(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    uint32_t changed[4];
    g_autofree char *out = NULL;
    QDict *rsp;
    uint16_t aer0, aer1;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG,
                      NVME_AEC_NS_ATTR | NVME_AEC_FW_ACTIVATION);
    qnvme_set_feature(c1, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer0 = qnvme_aer_submit(c0);
    aer1 = qnvme_aer_submit(c1);
    rsp = qtest_qmp(c0->qts, "{'execute': 'nvme-event-inject', 'arguments': "
                    "{'id': 's0', 'event': 'namespace-attribute', "
                    "'nsid': 1}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qnvme_assert_aer(c0, aer0, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_assert_aer(c1, aer1, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_read_log(c1, NVME_LOG_CHANGED_NS, changed, sizeof(changed));
    g_assert_cmpuint(le32_to_cpu(changed[0]), ==, 1);
    g_assert_cmpuint(changed[1], ==, 0);

    /* firmware activation on c0 only (c1 did not enable it anyway) */
    aer0 = qnvme_aer_submit(c0);
    out = fl_hmp(c0, "nvme_event_inject c0 firmware-activation");
    g_assert_nonnull(strstr(out, "c0: firmware-activation event injected"));
    qnvme_assert_aer(c0, aer0, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_FW_ACTIVATION, NVME_LOG_FW_SLOT);
    g_free(out);
    out = fl_hmp(c0, "nvme_event_inject s0 namespace-attribute");
    g_assert_nonnull(strstr(out, "needs 'nsid'"));
    g_free(out);
    out = fl_hmp(c0, "nvme_event_inject s0 firmware-activation 1");
    g_assert_nonnull(strstr(out, "'nsid' does not apply"));
    g_free(out);
    out = fl_hmp(c0, "nvme_event_inject s0 reboot");
    g_assert_nonnull(strstr(out, "unknown event 'reboot'"));
    qnvme_assert_alive(c1);
    fl_shutdown(c0, c1);
}

/* The function at @slot is found again as at power-on: probe and enable it */
static void fl_reprobe(QNvmeCtrl *c, int slot)
{
    g_free(c->pdev);
    qnvme_probe(c, slot);
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
}

static uint64_t fl_smart(QNvmeCtrl *c, size_t field)
{
    NvmeSmartLog log;

    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    return le64_to_cpu(*(le64 *)((uint8_t *)&log + field));
}

/*
 * A surprise removal: the function answers nothing, what it was doing is
 * lost without a completion, the other path goes on; back, it is as at
 * power-on (PCI configuration included) and works once set up again.
 */
static void test_surprise_removal(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    uint64_t cq1 = c1->cq[1].addr;
    uint64_t cycles = fl_smart(c1, offsetof(NvmeSmartLog, power_cycles));
    uint64_t unsafe = fl_smart(c1, offsetof(NvmeSmartLog, unsafe_shutdowns));
    uint32_t lat = fl_inject(c0, "{'id': 'c1', 'kind': 'latency', "
                                 "'latency-ms': 10000}");
    g_autofree char *out = NULL;
    uint8_t cq[sizeof(NvmeCqe) * QNVME_IOQ_ENTRIES];
    uint16_t parked, late;
    const char *end;
    unsigned int f;
    NvmeCqe cqe;

    fl_event(c0, lat, NULL);
    parked = fl_submit_read(c1);
    f = fl_inject(c0, "{'id': 'c1', 'kind': 'surprise-removal'}");
    fl_event(c0, f, NULL);
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS), ==, UINT32_MAX);
    g_assert_cmphex(qnvme_readl(c1, A_NVME_VS), ==, UINT32_MAX);
    g_assert_cmphex(qpci_config_readw(c1->pdev, PCI_VENDOR_ID), ==, 0xffff);
    g_assert_cmphex(qpci_config_readl(c1->pdev, PCI_COMMAND), ==, UINT32_MAX);
    qpci_config_writew(c1->pdev, PCI_COMMAND, 0);       /* dropped */
    qnvme_writel(c1, A_NVME_CC, 0);                     /* dropped */

    /* nothing completes: neither the parked read nor a new one */
    late = fl_submit_read(c1);
    qtest_clock_step(c0->qts, 11000 * 1000 * 1000ll);
    g_assert_false(qnvme_wait_cid(c1, 1, parked, &cqe, 100 * 1000));
    g_assert_false(qnvme_wait_cid(c1, 1, late, &cqe, 100 * 1000));
    qtest_memread(c1->qts, cq1, cq, sizeof(cq));
    g_assert_true(qnvme_all_zero(cq, sizeof(cq)));      /* no CQE posted */
    qnvme_assert_ok(fl_read(c0, 0, 1));                 /* the other path */

    /* refused: twice, a subsystem, a count, a stall of what is gone */
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'surprise-removal'}",
                    "is removed");
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'stall'}", "is removed");
    fl_inject_fails(c0, "{'id': 's0', 'kind': 'surprise-removal'}",
                    "needs a controller id");
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'surprise-removal', "
                        "'count': 3}", "does not apply");
    out = fl_hmp(c0, "info nvme_faults");
    g_assert_nonnull(strstr(out, "surprise-removal on c1"));
    fl_remove(c0, lat);
    fl_event(c0, lat, "removed");

    /* back, as at power-on */
    fl_remove(c0, f);
    fl_event(c0, f, "removed");
    g_assert_cmphex(qpci_config_readw(c1->pdev, PCI_VENDOR_ID), ==, 0x1b36);
    g_assert_cmphex(qpci_config_readw(c1->pdev, PCI_COMMAND) &
                    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), ==, 0);
    fl_reprobe(c1, QNVME_SLOT2);
    qnvme_assert_ok(fl_read(c1, 0, 1));
    g_assert_cmpuint(fl_smart(c1, offsetof(NvmeSmartLog, power_cycles)), ==,
                     cycles + 1);
    g_assert_cmpuint(fl_smart(c1, offsetof(NvmeSmartLog, unsafe_shutdowns)),
                     ==, unsafe + 1);

    /* for a duration, on a controller the host never enabled */
    qnvme_disable(c1);
    g_free(out);
    out = fl_hmp(c0, "nvme_fault_inject c1 surprise-removal duration-ms=500");
    g_assert_nonnull(strstr(out, "injected: surprise-removal on c1"));
    g_assert_cmpint(qemu_strtoui(out + strlen("fault "), &end, 10, &f), ==, 0);
    fl_event(c0, f, NULL);
    g_assert_cmphex(qpci_config_readw(c1->pdev, PCI_VENDOR_ID), ==, 0xffff);
    qtest_clock_step(c0->qts, 600 * 1000 * 1000ll);
    fl_event(c0, f, "duration");
    fl_reprobe(c1, QNVME_SLOT2);
    qnvme_assert_ok(fl_read(c1, 0, 1));
    g_assert_cmpuint(fl_smart(c1, offsetof(NvmeSmartLog, unsafe_shutdowns)),
                     ==, unsafe + 1);
    g_assert_cmpuint(fl_active(c0), ==, 0);
    fl_shutdown(c0, c1);
}

/* MSI-X vector 0 of @d writes @data to guest address @msg; @ctrl: masked? */
static void fl_msix_aim(QPCIDevice *d, uint64_t msg, uint32_t data,
                        uint32_t ctrl)
{
    uint64_t entry = d->msix_table_off;

    qpci_io_writel(d, d->msix_table_bar, entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                   (uint32_t)msg);
    qpci_io_writel(d, d->msix_table_bar, entry + PCI_MSIX_ENTRY_UPPER_ADDR,
                   msg >> 32);
    qpci_io_writel(d, d->msix_table_bar, entry + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(d, d->msix_table_bar, entry + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   ctrl);
}

/*
 * Removed, the function masters nothing: a completion left pending behind
 * a masked MSI-X vector is not delivered when the host unmasks the vector
 */
static void test_surprise_removal_msix(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = fl_boot_two(NULL, &c1);
    QPCIDevice *d = c1->pdev;
    uint64_t msg = qnvme_zalloc(c1, 4);
    uint64_t entry = d->msix_table_off;     /* vector 0: the admin CQ */
    NvmeIdCtrl id;
    uint32_t f;

    qnvme_msix_enable(c1);
    fl_msix_aim(d, msg, 0x77, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    qnvme_identify_ctrl(c1, &id);           /* its interrupt stays pending */
    g_assert_cmphex(qtest_readl(c1->qts, msg), ==, 0);

    f = fl_inject(c0, "{'id': 'c1', 'kind': 'surprise-removal'}");
    qpci_io_writel(d, d->msix_table_bar, entry + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   0);
    g_assert_cmphex(qtest_readl(c1->qts, msg), ==, 0);
    fl_remove(c0, f);
    fl_shutdown(c0, c1);
}

#define FL_RP_SLOT  6

/*
 * On a PCIe slot with native hotplug (q35's ACPI hotplug off, as the OS's
 * own driver would use it) the removal and the return reach the OS:
 * presence and link go down, then up, with Presence Detect Changed and
 * Data Link Layer State Changed, and the port's MSI-X message each time
 */
static void test_surprise_removal_slot(void)
{
    QNvmeCtrl *c0 = qnvme_boot(
        "-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off "
        "-device nvme-subsys,id=s0 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=fl-a,subsys=s0 "
        "-device pcie-root-port,id=rp0,chassis=1,slot=1,addr=%d.0 "
        "-device nvme,id=c1,bus=rp0,addr=0.0,multifunction=on,serial=fl-b,"
        "subsys=s0 "
        "-device nvme,id=c2,bus=rp0,addr=0.1,serial=fl-c,subsys=s0 "
        "-device nvme-ns,drive=d0,nsid=1,subsys=s0", FL_RP_SLOT);
    QPCIDevice *rp = qpci_device_find(c0->qs->pcibus,
                                      QPCI_DEVFN(FL_RP_SLOT, 0));
    uint8_t exp = qpci_find_capability(rp, PCI_CAP_ID_EXP, 0);
    uint64_t msg = qnvme_zalloc(c0, 4);
    uint16_t events = PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC;
    uint32_t f, g;

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    g_assert_nonnull(rp);
    g_assert_cmpuint(exp, !=, 0);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) &
                    PCI_EXP_SLTSTA_PDS, ==, PCI_EXP_SLTSTA_PDS);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_LNKSTA) &
                    PCI_EXP_LNKSTA_DLLLA, ==, PCI_EXP_LNKSTA_DLLLA);

    /* as Linux's pciehp: link events, the attention button, interrupts */
    qpci_device_enable(rp);
    qpci_msix_enable(rp);
    fl_msix_aim(rp, msg, 0x5a, 0);
    qpci_config_writew(rp, exp + PCI_EXP_SLTCTL,
                       qpci_config_readw(rp, exp + PCI_EXP_SLTCTL) |
                       PCI_EXP_SLTCTL_DLLSCE | PCI_EXP_SLTCTL_ABPE |
                       PCI_EXP_SLTCTL_HPIE);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTCTL) &
                    PCI_EXP_SLTCTL_DLLSCE, ==, PCI_EXP_SLTCTL_DLLSCE);
    qpci_config_writew(rp, exp + PCI_EXP_SLTSTA, 0x1ff);  /* clear all */
    qtest_writel(c0->qts, msg, 0);

    f = fl_inject(c0, "{'id': 'c1', 'kind': 'surprise-removal'}");
    fl_event(c0, f, NULL);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) &
                    (PCI_EXP_SLTSTA_PDS | events), ==, events);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_LNKSTA) &
                    PCI_EXP_LNKSTA_DLLLA, ==, 0);
    g_assert_cmphex(qtest_readl(c0->qts, msg), ==, 0x5a);
    /* the port's events clear as written (RW1C), DLLSC included */
    qpci_config_writew(rp, exp + PCI_EXP_SLTSTA, events);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) & events, ==,
                    0);
    qtest_writel(c0->qts, msg, 0);
    qnvme_assert_ok(fl_read(c0, 0, 1));

    fl_remove(c0, f);
    fl_event(c0, f, "removed");
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) &
                    (PCI_EXP_SLTSTA_PDS | events), ==,
                    PCI_EXP_SLTSTA_PDS | events);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_LNKSTA) &
                    PCI_EXP_LNKSTA_DLLLA, ==, PCI_EXP_LNKSTA_DLLLA);
    g_assert_cmphex(qtest_readl(c0->qts, msg), ==, 0x5a);

    /* one adapter, two functions: the slot is empty while either is out */
    qpci_config_writew(rp, exp + PCI_EXP_SLTSTA, events);
    f = fl_inject(c0, "{'id': 'c1', 'kind': 'surprise-removal'}");
    g = fl_inject(c0, "{'id': 'c2', 'kind': 'surprise-removal'}");
    fl_remove(c0, f);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) &
                    PCI_EXP_SLTSTA_PDS, ==, 0);
    fl_remove(c0, g);
    g_assert_cmphex(qpci_config_readw(rp, exp + PCI_EXP_SLTSTA) &
                    PCI_EXP_SLTSTA_PDS, ==, PCI_EXP_SLTSTA_PDS);
    g_free(rp);
    qnvme_shutdown(c0);
}

/*
 * iothread= (QNVME_IOTHREAD=1): a surprise removal resets the PCI function,
 * which only the main loop may do, so it is refused, nothing changed
 */
static bool fl_removal_refused(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0;
    NvmeIdCtrl id;

    if (!qnvme_iothread_mode()) {
        return false;
    }
    c0 = fl_boot_two(NULL, &c1);
    fl_inject_fails(c0, "{'id': 'c1', 'kind': 'surprise-removal'}",
                    "not supported on a controller with iothread=");
    g_assert_cmphex(qnvme_readl(c1, A_NVME_CSTS) & R_NVME_CSTS_RDY_MASK,
                    ==, R_NVME_CSTS_RDY_MASK);
    qnvme_identify_ctrl(c1, &id);
    fl_shutdown(c0, c1);
    return true;
}

static void test_removal(void)
{
    if (!fl_removal_refused()) {
        test_surprise_removal();
    }
}

static void test_removal_slot(void)
{
    if (!fl_removal_refused()) {
        test_surprise_removal_slot();
    }
}

static void test_removal_msix(void)
{
    if (!fl_removal_refused()) {
        test_surprise_removal_msix();
    }
}

static const QNvmeTest fl_tests[] = {
    { "status", test_status },
    { "media", test_media },
    { "write-protect", test_write_protect },
    { "latency", test_latency },
    { "stall", test_stall },
    { "cfs", test_cfs },
    { "smart-warning", test_smart_warning },
    { "bad-input", test_bad_input },
    { "hmp", test_hmp },
    { "unplug", test_unplug },
    { "latency-jitter", test_latency_jitter },
    { "event-inject", test_event_inject },
    { "latency-then-stall", test_latency_then_stall },
    { "surprise-removal", test_removal },
    { "surprise-removal-slot", test_removal_slot },
    { "surprise-removal-msix", test_removal_msix },
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("/nvme-fault", fl_tests, ARRAY_SIZE(fl_tests));
    return g_test_run();
}
