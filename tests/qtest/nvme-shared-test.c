/*
 * qtests of one truth per namespace: what one controller of a subsystem
 * does to a shared namespace, every other controller sees. Format changes
 * reach every path; the write cache is a promise each controller keeps on
 * its own; a Flush of every namespace follows each drive's error policy;
 * shadow doorbells reach queues already in use; the ANA log's change
 * count moves with attachments; Namespace Attachment reports the status
 * the spec orders first; the subsystem may give every controller its SN.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/nvme.h"

#define SH_WAIT_US      (10 * G_USEC_PER_SEC)

/* Two controllers of subsystem s0 (c0, c1), each enabled with queue pair 1 */
typedef struct ShPair {
    QNvmeCtrl *c0, *c1;
} ShPair;

static ShPair sh_boot(const char *devs)
{
    ShPair p;

    p.c0 = qnvme_boot_io_with(devs);
    p.c1 = qnvme_attach(p.c0, QNVME_SLOT2);
    qnvme_enable(p.c1);
    qnvme_create_ioq_pair(p.c1, 1, QNVME_IOQ_ENTRIES);
    return p;
}

static void sh_shutdown(ShPair *p)
{
    qnvme_shutdown(p->c1);
    qnvme_shutdown(p->c0);
}

#define SH_TWO_CTRLS(subsys_opts) \
    "-device nvme-subsys,id=s0" subsys_opts " " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sh-a,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=sh-b,subsys=s0 "

/* A blkdebug configuration file failing @iotype with EIO, always or once */
static char *sh_blkdebug_conf(const char *iotype, bool once)
{
    GError *err = NULL;
    char *path;
    int fd = g_file_open_tmp("qtest-nvme-blkdebug-XXXXXX.conf", &path, &err);
    g_autofree char *text = g_strdup_printf(
        "[inject-error]\nevent = \"none\"\niotype = \"%s\"\nerrno = \"5\"\n"
        "once = \"%s\"\n", iotype, once ? "on" : "off");

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
    return path;
}

static uint16_t sh_write_block(QNvmeCtrl *c, uint32_t nsid, uint64_t slba)
{
    uint8_t data[512];

    qnvme_pattern(data, sizeof(data), slba);
    return qnvme_write(c, 1, NVME_IO_WRITE, nsid, slba, 1, data, sizeof(data));
}

static uint16_t sh_flush(QNvmeCtrl *c, uint32_t nsid)
{
    NvmeSqe cmd = { .opcode = NVME_IO_FLUSH, .nsid = nsid };

    return qnvme_exec(c, 1, &cmd, NULL);
}

static bool sh_vm_running(QNvmeCtrl *c)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'query-status'}");
    bool running = qdict_get_bool(qdict_get_qdict(rsp, "return"), "running");

    qobject_unref(rsp);
    return running;
}

/* ---- Format on a shared namespace (item 1) ------------------------------- */

/*
 * Format NVM to 4 KiB blocks through c0: c1 gets the Namespace Attribute
 * Changed notice and the NSID in its Changed Namespace List too, and its
 * Identify Namespace shows the new format (base 5.16.1.5).
 */
static void test_format_notifies_every_ctrl(void)
{
    ShPair p = sh_boot(SH_TWO_CTRLS("")
                       "-device nvme-ns,drive=d0,nsid=1,subsys=s0");
    NvmeSqe fmt = { .opcode = NVME_ADM_FORMAT_NVM, .nsid = 1, .cdw10 = 1 };
    g_autofree NvmeChangedNsLog *log = g_new(NvmeChangedNsLog, 1);
    uint16_t aer0, aer1;
    NvmeIdNs id;

    qnvme_set_feature(p.c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    qnvme_set_feature(p.c1, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer0 = qnvme_aer_submit(p.c0);
    aer1 = qnvme_aer_submit(p.c1);
    qnvme_assert_ok(qnvme_admin(p.c0, &fmt, NULL));
    qnvme_assert_aer(p.c0, aer0, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_assert_aer(p.c1, aer1, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
    qnvme_read_log(p.c1, NVME_LOG_CHANGED_NS, log, sizeof(*log));
    g_assert_cmpuint(le32_to_cpu(log->nsid[0]), ==, 1);
    g_assert_cmpuint(le32_to_cpu(log->nsid[1]), ==, 0);
    qnvme_identify_ns(p.c1, 1, &id);
    g_assert_cmpuint(id.flbas & 0xf, ==, 1);
    g_assert_cmpuint(id.lbaf[1].lbads, ==, 12);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_IMG0_SIZE / 4096);
    sh_shutdown(&p);
}

/* ---- the write cache (item 2) -------------------------------------------- */

/* The flags of the last write the block layer got, from QEMU's trace log */
static unsigned sh_last_write_flags(const char *log)
{
    g_autofree char *text = NULL;
    const char *line, *flags, *end;
    unsigned long value;

    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    line = g_strrstr(text, "blk_co_pwritev ");
    g_assert_nonnull(line);
    flags = strstr(line, "flags 0x");
    g_assert_nonnull(flags);
    g_assert_cmpint(qemu_strtoul(flags + strlen("flags 0x"), &end, 16, &value),
                    ==, 0);
    return value;
}

static bool sh_write_is_fua(QNvmeCtrl *c, const char *log, uint64_t slba,
                            bool fua)
{
    uint8_t data[512] = { 0 };
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, slba, 1);
    uint64_t buf = qnvme_alloc(c, sizeof(data));

    if (fua) {
        cmd.cdw12 |= R_NVME_RW_DW12_FUA_MASK;
    }
    qtest_bufwrite(c->qts, buf, data, sizeof(data));
    qnvme_set_prps(c, &cmd, buf, sizeof(data));
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    guest_free(&c->qs->alloc, buf);
    return sh_last_write_flags(log) & 0x10;       /* BDRV_REQ_FUA */
}

/*
 * The drive's cache is shared; each controller keeps its own promise. c1
 * turns its cache off, then c0 turns its on: c1's writes still reach the
 * block layer durable (FUA), c0's need not; a reset of c0 changes nothing
 * for c1; a write with FUA is durable whatever the cache.
 */
static void test_vwc_per_ctrl(void)
{
    g_autofree char *log = NULL;
    g_autofree char *devs = NULL;
    int fd = g_file_open_tmp("qtest-nvme-trace-XXXXXX.log", &log, NULL);
    ShPair p;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    devs = g_strdup_printf(SH_TWO_CTRLS("")
                           "-device nvme-ns,drive=d0,nsid=1,subsys=s0 "
                           "-trace blk_co_pwritev -D %s", log);
    p = sh_boot(devs);
    qnvme_set_feature(p.c1, NVME_FEAT_VOLATILE_WC, 0);
    qnvme_set_feature(p.c0, NVME_FEAT_VOLATILE_WC, 1);
    g_assert_false(sh_write_is_fua(p.c0, log, 0, false));
    g_assert_true(sh_write_is_fua(p.c1, log, 1, false));
    qnvme_disable(p.c0);
    g_assert_true(sh_write_is_fua(p.c1, log, 2, false));
    qnvme_enable(p.c0);
    qnvme_create_ioq_pair(p.c0, 1, QNVME_IOQ_ENTRIES);
    /* c0's default is the drive's cache (writeback): not durable */
    g_assert_false(sh_write_is_fua(p.c0, log, 3, false));
    g_assert_true(sh_write_is_fua(p.c0, log, 4, true));
    sh_shutdown(&p);
    unlink(log);
}

/* ---- a Flush of every namespace (item 4) --------------------------------- */

/*
 * ns1's drive stops the VM on error and fails its first flush; ns2's
 * reports errors and fails every flush. Flush FFFFFFFFh: ns1's policy
 * stops the VM; after cont ns1 is flushed again, then ns2, whose error
 * ends the command (so both were flushed, each by its own policy).
 */
static void test_bcast_flush_policies(void)
{
    g_autofree char *conf1 = sh_blkdebug_conf("flush", true);
    g_autofree char *conf2 = sh_blkdebug_conf("flush", false);
    g_autofree char *devs = g_strdup_printf(
        "-drive if=none,id=f1,format=raw,werror=stop,rerror=stop,"
        "file.driver=blkdebug,file.config=%s,file.image.driver=null-co,"
        "file.image.size=16M "
        "-drive if=none,id=f2,format=raw,werror=report,rerror=report,"
        "file.driver=blkdebug,file.config=%s,file.image.driver=null-co,"
        "file.image.size=16M "
        "-device nvme,id=c0," QNVME_ADDR ",serial=fl "
        "-device nvme-ns,drive=f1,nsid=1,bus=c0 "
        "-device nvme-ns,drive=f2,nsid=2,bus=c0", conf1, conf2);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    NvmeSqe cmd = { .opcode = NVME_IO_FLUSH, .nsid = NVME_NSID_BROADCAST };
    uint16_t cid;
    NvmeCqe cqe;
    gint64 deadline;

    qnvme_assert_ok(sh_write_block(c, 1, 0));   /* something to flush */
    qnvme_assert_ok(sh_write_block(c, 2, 0));
    cid = qnvme_submit(c, 1, &cmd);
    qtest_qmp_eventwait(c->qts, "STOP");
    g_assert_false(sh_vm_running(c));
    qnvme_assert_pending(c, 1, cid);
    qobject_unref(qtest_qmp(c->qts, "{'execute': 'cont'}"));
    deadline = g_get_monotonic_time() + SH_WAIT_US;
    while (!qnvme_wait_cid(c, 1, cid, &cqe, QNVME_SHORT_US)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    qnvme_assert_status(qnvme_cqe_status(&cqe),
                        QNVME_ST(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT));
    g_assert_true(sh_vm_running(c));
    /* ns1 alone flushes fine now (its error came once) */
    qnvme_assert_ok(sh_write_block(c, 1, 1));
    qnvme_assert_ok(sh_flush(c, 1));
    qnvme_shutdown(c);
    unlink(conf1);
    unlink(conf2);
}

/* ---- shadow doorbells reach queues in use (item 3) ----------------------- */

/*
 * The host puts a Read on SQ 1 and writes the new tail to the shadow
 * doorbell before Doorbell Buffer Config completes, skipping the MMIO
 * doorbell (its EventIdx was 0). The controller looks at the shadow tail
 * when the buffers arrive: the Read completes without another doorbell,
 * and the EventIdx of the queue is published.
 */
static void test_dbbuf_on_live_queues(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe dbbuf = { .opcode = NVME_ADM_DBBUF_CONFIG };
    NvmeSqe rd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1), le;
    uint64_t dbs = qnvme_page_zalloc(c, QNVME_PAGE);
    uint64_t eis = qnvme_page_zalloc(c, QNVME_PAGE);
    uint8_t buf[512];
    uint32_t tail, idx;
    NvmeCqe cqe;

    qnvme_assert_ok(qnvme_read(c, 1, 1, 0, 1, buf, sizeof(buf)));
    qnvme_set_prps(c, &rd, qnvme_alloc(c, 512), 512);
    rd.cid = 0x5151;
    qnvme_sqe_to_le(&le, &rd);
    qtest_memwrite(c->qts, c->sq[1].addr + c->sq[1].ptr * sizeof(NvmeSqe),
                   &le, sizeof(le));
    c->sq[1].ptr = (c->sq[1].ptr + 1) % c->sq[1].entries;
    tail = cpu_to_le32(c->sq[1].ptr);
    qtest_memwrite(c->qts, dbs + qnvme_sq_db(1) - NVME_REG_SIZE, &tail, 4);
    dbbuf.dptr.prp1 = dbs;
    dbbuf.dptr.prp2 = eis;
    qnvme_assert_ok(qnvme_admin(c, &dbbuf, NULL));
    c->dbbuf_dbs = dbs;
    g_assert_true(qnvme_wait_cid(c, 1, 0x5151, &cqe, QNVME_TIMEOUT_US));
    qnvme_assert_ok(qnvme_cqe_status(&cqe));
    qtest_memread(c->qts, eis + qnvme_sq_db(1) - NVME_REG_SIZE, &idx, 4);
    g_assert_cmpuint(le32_to_cpu(idx), ==, c->sq[1].ptr);
    qnvme_assert_ok(qnvme_read(c, 1, 1, 1, 1, buf, sizeof(buf)));
    qnvme_shutdown(c);
}

/*
 * With ioeventfd the CQ head doorbell only signals; the head comes from
 * the shadow doorbell and is checked like an MMIO one: out of range is an
 * Invalid Doorbell Write Value error event, and the write changes nothing.
 */
static void test_ioeventfd_cq_head_checked(void)
{
    QNvmeCtrl *c = qnvme_boot(
        "-device nvme,id=c0," QNVME_ADDR ",serial=efd,drive=d0,ioeventfd=on");
    NvmeSqe dbbuf = { .opcode = NVME_ADM_DBBUF_CONFIG };
    uint8_t buf[512];
    uint16_t aer;
    uint32_t bad = cpu_to_le32(QNVME_IOQ_ENTRIES + 3);

    qnvme_enable(c);
    dbbuf.dptr.prp1 = qnvme_page_zalloc(c, QNVME_PAGE);
    dbbuf.dptr.prp2 = qnvme_page_zalloc(c, QNVME_PAGE);
    qnvme_assert_ok(qnvme_admin(c, &dbbuf, NULL));
    c->dbbuf_dbs = dbbuf.dptr.prp1;
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_ok(qnvme_read(c, 1, 1, 0, 1, buf, sizeof(buf)));
    aer = qnvme_aer_submit(c);
    qtest_memwrite(c->qts, c->dbbuf_dbs + qnvme_cq_db(1) - NVME_REG_SIZE,
                   &bad, 4);
    qnvme_writel(c, qnvme_cq_db(1), QNVME_IOQ_ENTRIES + 3);
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_ERROR,
                     NVME_AER_INFO_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR);
    /* the head did not move: put the host's own value back and go on */
    qnvme_ring(c, qnvme_cq_db(1), c->cq[1].ptr);
    qnvme_assert_ok(qnvme_read(c, 1, 1, 1, 1, buf, sizeof(buf)));
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- ANA change count, attachment statuses (items 5 and 6) --------------- */

static uint16_t sh_attach(QNvmeCtrl *c, uint32_t sel, uint32_t nsid,
                          uint16_t cntlid)
{
    return qnvme_ns_attachment(c, sel, nsid, 1, &cntlid, 1);
}

/*
 * Detaching and attaching a namespace changes the ANA log of that
 * controller (its group's NSIDs): the log's change count and the group's
 * move; the other controller's log does not change.
 */
static void test_ana_chgcnt_attach(void)
{
    ShPair p = sh_boot(SH_TWO_CTRLS(",ana=true")
                       "-device nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1 "
                       "-device nvme-ns,drive=d1,nsid=2,subsys=s0,"
                       "ana.grpid=2");
    QNvmeAnaLog before, after, other;

    qnvme_read_ana_log(p.c0, 0, true, &before);
    qnvme_assert_ok(sh_attach(p.c0, NVME_NS_DETACH, 2, 1));
    qnvme_read_ana_log(p.c0, 0, true, &after);
    g_assert_cmpuint(after.chgcnt, >, before.chgcnt);
    g_assert_cmpuint(after.ngrps, ==, 1);       /* group 2 has no NSID here */
    qnvme_assert_ok(sh_attach(p.c0, NVME_NS_ATTACH, 2, 1));
    before = after;
    qnvme_read_ana_log(p.c0, 0, true, &after);
    g_assert_cmpuint(after.chgcnt, >, before.chgcnt);
    g_assert_cmpuint(after.ngrps, ==, 2);
    g_assert_cmpuint(after.desc[1].grpid, ==, 2);
    g_assert_cmpuint(after.desc[1].chgcnt, ==, after.chgcnt);
    qnvme_read_ana_log(p.c1, 0, true, &other);
    g_assert_cmpuint(other.chgcnt, ==, 0);
    sh_shutdown(&p);
}

/*
 * A private namespace attached to c0: attaching it to c0 again is
 * Namespace Already Attached (2118h); to c1, Namespace Is Private (2119h).
 */
static void test_attach_private_statuses(void)
{
    ShPair p = sh_boot(SH_TWO_CTRLS("")
                       "-device nvme-ns,drive=d0,nsid=1,bus=c0");

    qnvme_assert_status(sh_attach(p.c0, NVME_NS_ATTACH, 1, 1),
                        QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC,
                                     NVME_SC_NS_ALREADY_ATTACHED));
    qnvme_assert_status(sh_attach(p.c0, NVME_NS_ATTACH, 1, 2),
                        QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC,
                                     NVME_SC_NS_IS_PRIVATE));
    sh_shutdown(&p);
}

/* ---- serial numbers (item 8) --------------------------------------------- */

static void sh_assert_sn(QNvmeCtrl *c, const char *want)
{
    NvmeIdCtrl id;
    char sn[21];

    qnvme_identify_ctrl(c, &id);
    memcpy(sn, id.sn, 20);
    sn[20] = 0;
    g_strchomp(sn);
    g_assert_cmpstr(sn, ==, want);
}

/* Each controller's own serial by default; the subsystem's when it has one */
static void test_subsys_serial(void)
{
    ShPair p = sh_boot(SH_TWO_CTRLS(""));

    sh_assert_sn(p.c0, "sh-a");
    sh_assert_sn(p.c1, "sh-b");
    sh_shutdown(&p);
    p = sh_boot(SH_TWO_CTRLS(",serial=ARRAY-0042"));
    sh_assert_sn(p.c0, "ARRAY-0042");
    sh_assert_sn(p.c1, "ARRAY-0042");
    sh_shutdown(&p);
}

int main(int argc, char **argv)
{
    static const QNvmeTest tests[] = {
        { "format-notifies-every-ctrl", test_format_notifies_every_ctrl },
        { "vwc-per-ctrl", test_vwc_per_ctrl },
        { "bcast-flush-policies", test_bcast_flush_policies },
        { "dbbuf-on-live-queues", test_dbbuf_on_live_queues },
        { "ioeventfd-cq-head-checked", test_ioeventfd_cq_head_checked },
        { "ana-chgcnt-attach", test_ana_chgcnt_attach },
        { "attach-private-statuses", test_attach_private_statuses },
        { "subsys-serial", test_subsys_serial },
    };

    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme-shared", tests, ARRAY_SIZE(tests));
    return g_test_run();
}
