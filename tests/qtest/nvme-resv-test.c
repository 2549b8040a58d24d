/*
 * qtests of NVMe reservations (Base 2.0, 8.19; NVM Command Set 1.0,
 * 3.3.4-3.3.7): two controllers of one subsystem set to different Host
 * Identifiers act as two hosts that register, reserve, fence and preempt
 * each other on a shared namespace. Statuses, what I/O each host may still
 * do, the Reservation Report in both formats, the Reservation Notification
 * log with its events, and the features 81h-83h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "libqos/nvme.h"

#define RV_CONFLICT QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT)
#define RV_INVALID  QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define RV_HOSTID   QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_HOST_ID_INCONSISTENT)
#define RV_SEQUENCE QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE)

#define RV_KEY_A    0x1111222233334444ull
#define RV_KEY_B    0xaaaabbbbccccddddull
#define RV_HOST_A   0x0a0a0a0a0a0a0a01ull
#define RV_HOST_B   0x0b0b0b0b0b0b0b02ull

#define RV_DEVS \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=rv-a,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=rv-b,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0"

/* CNTLIDs as the subsystem hands them out, in -device order */
#define RV_CNTLID0  1
#define RV_CNTLID1  2

/* ---- the commands ------------------------------------------------------- */

/* A reservation command on namespace 1 sending @len bytes of @data */
static uint16_t rv_send(QNvmeCtrl *c, uint8_t opcode, uint32_t dw10,
                        const void *data, size_t len)
{
    NvmeSqe cmd = { .opcode = opcode, .nsid = 1, .cdw10 = dw10 };
    uint64_t buf = qnvme_alloc(c, len);
    uint16_t st;

    qtest_memwrite(c->qts, buf, data, len);
    qnvme_set_prps(c, &cmd, buf, len);
    st = qnvme_exec(c, 1, &cmd, NULL);
    guest_free(&c->qs->alloc, buf);
    return st;
}

static uint32_t rv_dw10(uint8_t action, uint8_t rtype, bool iekey)
{
    return action | (iekey ? 1u << 3 : 0) | (uint32_t)rtype << 8;
}

static uint16_t rv_register_full(QNvmeCtrl *c, uint8_t action, uint64_t crkey,
                                 uint64_t nrkey, bool iekey, uint8_t cptpl)
{
    NvmeResvKeys keys = { cpu_to_le64(crkey), cpu_to_le64(nrkey) };

    return rv_send(c, NVME_IO_RESV_REGISTER,
                   rv_dw10(action, 0, iekey) | (uint32_t)cptpl << 30,
                   &keys, sizeof(keys));
}

static uint16_t rv_register(QNvmeCtrl *c, uint8_t action, uint64_t crkey,
                            uint64_t nrkey)
{
    return rv_register_full(c, action, crkey, nrkey, false, 0);
}

static uint16_t rv_acquire(QNvmeCtrl *c, uint8_t action, uint8_t rtype,
                           uint64_t crkey, uint64_t prkey)
{
    NvmeResvKeys keys = { cpu_to_le64(crkey), cpu_to_le64(prkey) };

    return rv_send(c, NVME_IO_RESV_ACQUIRE, rv_dw10(action, rtype, false),
                   &keys, sizeof(keys));
}

static uint16_t rv_release(QNvmeCtrl *c, uint8_t action, uint8_t rtype,
                           uint64_t crkey)
{
    uint64_t key = cpu_to_le64(crkey);

    return rv_send(c, NVME_IO_RESV_RELEASE, rv_dw10(action, rtype, false),
                   &key, sizeof(key));
}

/*
 * Reservation Report of namespace 1 into @out, NUMD for @len bytes; the
 * guest buffer is @len + 64 bytes of QNVME_FILL, and the bytes past @len
 * must stay so.
 */
static uint16_t rv_report(QNvmeCtrl *c, bool eds, void *out, size_t len)
{
    NvmeSqe cmd = { .opcode = NVME_IO_RESV_REPORT, .nsid = 1,
                    .cdw10 = len / 4 - 1, .cdw11 = eds };
    uint64_t buf = qnvme_alloc(c, len + 64);
    uint8_t after[64];
    uint16_t st;

    qtest_memset(c->qts, buf, QNVME_FILL, len + 64);
    qnvme_set_prps(c, &cmd, buf, len);
    st = qnvme_exec(c, 1, &cmd, NULL);
    qtest_bufread(c->qts, buf, out, len);
    qtest_bufread(c->qts, buf + len, after, sizeof(after));
    for (unsigned i = 0; i < sizeof(after); i++) {
        g_assert_cmphex(after[i], ==, QNVME_FILL);
    }
    guest_free(&c->qs->alloc, buf);
    return st;
}

/* The report's header and registrants in host order (64-bit host ids) */
typedef struct RvStatus {
    uint32_t gen;
    uint8_t rtype;
    uint16_t regctl;
    struct {
        uint16_t cntlid;
        uint8_t rcsts;
        uint64_t hostid;
        uint64_t rkey;
    } reg[8];
} RvStatus;

static RvStatus rv_status(QNvmeCtrl *c)
{
    uint8_t buf[sizeof(NvmeResvStatus) + 8 * sizeof(NvmeResvCtrl)];
    NvmeResvStatus *hdr = (NvmeResvStatus *)buf;
    NvmeResvCtrl *e = (NvmeResvCtrl *)(hdr + 1);
    RvStatus st = { 0 };

    qnvme_assert_ok(rv_report(c, false, buf, sizeof(buf)));
    st.gen = le32_to_cpu(hdr->gen);
    st.rtype = hdr->rtype;
    st.regctl = le16_to_cpu(hdr->regctl);
    g_assert_cmpuint(st.regctl, <=, 8);
    for (unsigned i = 0; i < st.regctl; i++) {
        st.reg[i].cntlid = le16_to_cpu(e[i].cntlid);
        st.reg[i].rcsts = e[i].rcsts;
        st.reg[i].hostid = ldq_le_p(e[i].hostid);
        st.reg[i].rkey = le64_to_cpu(e[i].rkey);
    }
    /* the status ends after REGCTL entries: the rest is not written */
    for (uint8_t *p = (uint8_t *)&e[st.regctl]; p < buf + sizeof(buf); p++) {
        g_assert_cmphex(*p, ==, QNVME_FILL);
    }
    return st;
}

/* Host Identifier (feature 81h): 64 bits, or 128 with EXHID */
static uint16_t rv_set_host(QNvmeCtrl *c, const void *id, bool ext)
{
    return qnvme_set_features(c, &(QNvmeFeat){
        .fid = NVME_FEAT_HOST_ID, .dw11 = ext, .buf = (void *)id,
        .len = ext ? 16 : 8 }, NULL);
}

static void rv_set_host64(QNvmeCtrl *c, uint64_t host)
{
    uint64_t le = cpu_to_le64(host);

    qnvme_assert_ok(rv_set_host(c, &le, false));
}

/* I/O through @c: a one-block write and read at LBA 0 */
static uint16_t rv_write(QNvmeCtrl *c)
{
    uint8_t data[512] = { 1 };

    return qnvme_write(c, 1, NVME_IO_WRITE, 1, 0, 1, data, sizeof(data));
}

static uint16_t rv_read(QNvmeCtrl *c)
{
    return qnvme_read_blocks(c, 1, 1, 0, 1);
}

/* The next Reservation Notification log entry of @c, RAE cleared */
static NvmeResvNoticeLog rv_notice(QNvmeCtrl *c)
{
    NvmeResvNoticeLog log;

    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
        .lid = NVME_LOG_RESV_NOTICE }, &log, sizeof(log)));
    g_assert_true(qnvme_all_zero(log.rsvd10, sizeof(log.rsvd10)));
    g_assert_true(qnvme_all_zero(log.rsvd16, sizeof(log.rsvd16)));
    return log;
}

static void rv_assert_notice(QNvmeCtrl *c, uint64_t count, uint8_t type,
                             uint8_t nalp)
{
    NvmeResvNoticeLog log = rv_notice(c);

    g_assert_cmpuint(le64_to_cpu(log.count), ==, count);
    g_assert_cmpuint(log.type, ==, type);
    g_assert_cmpuint(log.nalp, ==, nalp);
    g_assert_cmpuint(le32_to_cpu(log.nsid), ==, count ? 1 : 0);
}

static void rv_assert_no_notice(QNvmeCtrl *c)
{
    rv_assert_notice(c, 0, NVME_RESV_NOTICE_EMPTY, 0);
}

/*
 * Two hosts: c0 with Host Identifier A, c1 with B, each with queue pair 1,
 * on machine type @machine (NULL: q35; "pc" for ACPI hot-unplug)
 */
static QNvmeCtrl *rv_boot_two_hosts_on(const char *machine, QNvmeCtrl **c1)
{
    QNvmeCtrl *c0 = machine ? qnvme_boot_machine(machine, RV_DEVS)
                            : qnvme_boot("%s", RV_DEVS);

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    *c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(*c1);
    qnvme_create_ioq_pair(*c1, 1, QNVME_IOQ_ENTRIES);
    rv_set_host64(c0, RV_HOST_A);
    rv_set_host64(*c1, RV_HOST_B);
    return c0;
}

static QNvmeCtrl *rv_boot_two_hosts(QNvmeCtrl **c1)
{
    return rv_boot_two_hosts_on(NULL, c1);
}

static void rv_shutdown(QNvmeCtrl *c0, QNvmeCtrl *c1)
{
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/* ---- the tests ---------------------------------------------------------- */

/* ONCS, RESCAP, the Effects log and the Supported Log Pages say so */
static void test_identify(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    static const uint8_t ops[] = {
        NVME_IO_RESV_REGISTER, NVME_IO_RESV_REPORT, NVME_IO_RESV_ACQUIRE,
        NVME_IO_RESV_RELEASE,
    };
    g_autofree NvmeEffectsLog *eff = g_new(NvmeEffectsLog, 1);
    g_autofree NvmeSupportedLogs *logs = g_new(NvmeSupportedLogs, 1);
    NvmeIdCtrl id;
    NvmeIdNs ns;

    qnvme_identify_ctrl(c, &id);
    g_assert_true(le16_to_cpu(id.oncs) & NVME_ONCS_RESERVATIONS);
    qnvme_identify_ns(c, 1, &ns);
    g_assert_cmphex(ns.rescap, ==, 0xfe);   /* every type, IEKEY, no PTPL */
    qnvme_read_log(c, NVME_LOG_CMD_EFFECTS, eff, sizeof(*eff));
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        g_assert_cmphex(le32_to_cpu(eff->iocs[ops[i]]), ==, NVME_EFF_CSUPP);
    }
    qnvme_read_log(c, NVME_LOG_SUPPORTED, logs, sizeof(*logs));
    g_assert_cmphex(le32_to_cpu(logs->lids[NVME_LOG_RESV_NOTICE]), ==,
                    NVME_LIDS_SUPPORTED);
    qnvme_shutdown(c);
}

/* Feature 81h: kept as set in 64 or 128 bits, gone after a reset */
static void test_host_id(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t id128[16], got[16];
    uint64_t id64 = cpu_to_le64(RV_HOST_A), got64 = 0;
    QNvmeFeat get = { .fid = NVME_FEAT_HOST_ID, .buf = got, .len = 16,
                      .dw11 = 1 };

    for (unsigned i = 0; i < sizeof(id128); i++) {
        id128[i] = 0x40 + i;
    }
    qnvme_assert_ok(rv_set_host(c, id128, true));
    qnvme_assert_ok(qnvme_get_features(c, &get, NULL));
    g_assert_true(memcmp(got, id128, 16) == 0);

    qnvme_assert_ok(rv_set_host(c, &id64, false));
    qnvme_assert_ok(qnvme_get_features(c, &(QNvmeFeat){
        .fid = NVME_FEAT_HOST_ID, .buf = &got64, .len = 8 }, NULL));
    g_assert_cmphex(le64_to_cpu(got64), ==, RV_HOST_A);
    /* the default is 0 */
    get.sel = NVME_SEL_DEFAULT;
    qnvme_assert_ok(qnvme_get_features(c, &get, NULL));
    g_assert_true(qnvme_all_zero(got, 16));

    qnvme_disable(c);
    qnvme_enable(c);
    get.sel = NVME_SEL_CURRENT;
    memset(got, QNVME_FILL, sizeof(got));
    qnvme_assert_ok(qnvme_get_features(c, &get, NULL));
    g_assert_true(qnvme_all_zero(got, 16));
    qnvme_shutdown(c);
}

/* Register, Replace, Unregister: keys checked, the generation counts */
static void test_register(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    RvStatus st = rv_status(c0);

    g_assert_cmpuint(st.gen, ==, 0);
    g_assert_cmpuint(st.regctl, ==, 0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_NONE);

    /* not a registrant: nothing to unregister or replace */
    qnvme_assert_status(rv_register(c0, NVME_RESV_UNREGISTER, 0, 0),
                        RV_CONFLICT);
    qnvme_assert_status(rv_register(c0, NVME_RESV_REPLACE, 0, RV_KEY_B),
                        RV_CONFLICT);

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    /*
     * the same key again succeeds (and, as every successful Register, counts
     * in the generation); another key conflicts
     */
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_status(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_B),
                        RV_CONFLICT);
    st = rv_status(c1);          /* every controller sees the same state */
    g_assert_cmpuint(st.gen, ==, 2);
    g_assert_cmpuint(st.regctl, ==, 1);
    g_assert_cmpuint(st.reg[0].cntlid, ==, RV_CNTLID0);
    g_assert_cmphex(st.reg[0].hostid, ==, RV_HOST_A);
    g_assert_cmphex(st.reg[0].rkey, ==, RV_KEY_A);
    g_assert_cmpuint(st.reg[0].rcsts, ==, 0);

    /* Replace needs the current key, unless IEKEY */
    qnvme_assert_status(rv_register(c0, NVME_RESV_REPLACE, RV_KEY_B, RV_KEY_B),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_register_full(c0, NVME_RESV_REPLACE, 0, RV_KEY_B, true,
                                     0));
    st = rv_status(c0);
    g_assert_cmpuint(st.gen, ==, 3);
    g_assert_cmphex(st.reg[0].rkey, ==, RV_KEY_B);

    /* the other host registers on its own */
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_A));
    st = rv_status(c0);
    g_assert_cmpuint(st.regctl, ==, 2);
    g_assert_cmpuint(st.reg[1].cntlid, ==, RV_CNTLID1);
    g_assert_cmphex(st.reg[1].hostid, ==, RV_HOST_B);

    qnvme_assert_status(rv_register(c0, NVME_RESV_UNREGISTER, RV_KEY_A, 0),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_register(c0, NVME_RESV_UNREGISTER, RV_KEY_B, 0));
    st = rv_status(c0);
    g_assert_cmpuint(st.gen, ==, 5);
    g_assert_cmpuint(st.regctl, ==, 1);
    g_assert_cmpuint(st.reg[0].cntlid, ==, RV_CNTLID1);
    rv_shutdown(c0, c1);
}

/* Write Exclusive: the holder writes; everyone, registered or not, reads */
static void test_write_exclusive(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    RvStatus st;

    /* only a registrant acquires */
    qnvme_assert_status(rv_acquire(c0, NVME_RESV_ACQUIRE,
                                   NVME_RESV_WRITE_EXCL, RV_KEY_A, 0),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_status(rv_acquire(c0, NVME_RESV_ACQUIRE,
                                   NVME_RESV_WRITE_EXCL, RV_KEY_B, 0),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE, NVME_RESV_WRITE_EXCL,
                               RV_KEY_A, 0));
    st = rv_status(c1);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_WRITE_EXCL);
    g_assert_cmpuint(st.reg[0].rcsts, ==, 1);
    g_assert_cmpuint(st.gen, ==, 1);        /* Acquire does not count */

    qnvme_assert_ok(rv_write(c0));
    qnvme_assert_status(rv_write(c1), RV_CONFLICT);
    qnvme_assert_status(qnvme_io_nodata(c1, 1, NVME_IO_WRITE_ZEROES, 1, 0, 1),
                        RV_CONFLICT);
    qnvme_assert_status(qnvme_io_nodata(c1, 1, NVME_IO_FLUSH, 1, 0, 1),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_read(c1));
    qnvme_assert_ok(qnvme_io_nodata(c1, 1, NVME_IO_VERIFY, 1, 0, 1));

    /* a registrant that does not hold it is fenced as well */
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_status(rv_write(c1), RV_CONFLICT);
    /* and cannot take it: it is held */
    qnvme_assert_status(rv_acquire(c1, NVME_RESV_ACQUIRE,
                                   NVME_RESV_WRITE_EXCL, RV_KEY_B, 0),
                        RV_CONFLICT);
    /* the holder acquiring again the same type is fine, another is not */
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE, NVME_RESV_WRITE_EXCL,
                               RV_KEY_A, 0));
    qnvme_assert_status(rv_acquire(c0, NVME_RESV_ACQUIRE,
                                   NVME_RESV_EXCL_ACCESS, RV_KEY_A, 0),
                        RV_CONFLICT);

    /* Release names the type held; the other host writes again */
    qnvme_assert_status(rv_release(c0, NVME_RESV_RELEASE,
                                   NVME_RESV_EXCL_ACCESS, RV_KEY_A),
                        RV_INVALID);
    qnvme_assert_ok(rv_release(c0, NVME_RESV_RELEASE, NVME_RESV_WRITE_EXCL,
                               RV_KEY_A));
    qnvme_assert_ok(rv_write(c1));
    g_assert_cmpuint(rv_status(c0).rtype, ==, NVME_RESV_NONE);
    /* Write Exclusive's release tells no one */
    rv_assert_no_notice(c1);
    rv_shutdown(c0, c1);
}

/* Exclusive Access - Registrants Only: others neither read nor write */
static void test_exclusive_access_registrants(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_EXCL_ACCESS_REGS, RV_KEY_A, 0));
    qnvme_assert_status(rv_read(c1), RV_CONFLICT);
    qnvme_assert_status(rv_write(c1), RV_CONFLICT);
    qnvme_assert_status(qnvme_io_nodata(c1, 1, NVME_IO_VERIFY, 1, 0, 1),
                        RV_CONFLICT);
    /* the reservation commands stay open to it */
    g_assert_cmpuint(rv_status(c1).rtype, ==, NVME_RESV_EXCL_ACCESS_REGS);
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_read(c1));
    qnvme_assert_ok(rv_write(c1));
    /* unregistered again, it is fenced again */
    qnvme_assert_ok(rv_register(c1, NVME_RESV_UNREGISTER, RV_KEY_B, 0));
    qnvme_assert_status(rv_read(c1), RV_CONFLICT);
    qnvme_assert_ok(rv_read(c0));
    rv_shutdown(c0, c1);
}

/*
 * Fencing: host B preempts host A's Write Exclusive - Registrants Only with
 * A's key. A is unregistered, fenced, and told through the notification
 * log and an asynchronous event.
 */
static void test_preempt(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    uint16_t aer;
    RvStatus st;

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, 0));
    qnvme_assert_ok(rv_write(c1));          /* a registrant writes */
    aer = qnvme_aer_submit(c0);

    /* PRKEY that nobody holds, and PRKEY 0 with a holder, are refused */
    qnvme_assert_status(rv_acquire(c1, NVME_RESV_PREEMPT,
                                   NVME_RESV_WRITE_EXCL_REGS, RV_KEY_B,
                                   0x77),
                        RV_CONFLICT);
    qnvme_assert_status(rv_acquire(c1, NVME_RESV_PREEMPT,
                                   NVME_RESV_WRITE_EXCL_REGS, RV_KEY_B, 0),
                        RV_INVALID);
    qnvme_assert_pending(c0, 0, aer);

    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_PREEMPT_ABORT,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_B, RV_KEY_A));
    qnvme_assert_aer(c0, aer, NVME_AER_TYPE_IO_CMD_SET,
                     NVME_AER_INFO_IO_RESV_LOG, NVME_LOG_RESV_NOTICE);
    rv_assert_notice(c0, 1, NVME_RESV_NOTICE_REG_PREEMPTED, 0);
    rv_assert_no_notice(c0);
    rv_assert_no_notice(c1);

    st = rv_status(c0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_WRITE_EXCL_REGS);
    g_assert_cmpuint(st.regctl, ==, 1);
    g_assert_cmpuint(st.reg[0].cntlid, ==, RV_CNTLID1);
    g_assert_cmpuint(st.reg[0].rcsts, ==, 1);
    g_assert_cmpuint(st.gen, ==, 3);
    qnvme_assert_status(rv_write(c0), RV_CONFLICT);
    qnvme_assert_ok(rv_read(c0));
    qnvme_assert_ok(rv_write(c1));
    /* the fenced host's key is gone: it must register anew */
    qnvme_assert_status(rv_release(c0, NVME_RESV_RELEASE,
                                   NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A),
                        RV_CONFLICT);
    rv_shutdown(c0, c1);
}

/*
 * All Registrants: every registrant holds it; it lasts while one is
 * registered. Preempt with PRKEY 0 leaves the caller alone.
 */
static void test_all_registrants(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    RvStatus st;

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_ALL, RV_KEY_A, 0));
    qnvme_assert_status(rv_write(c1), RV_CONFLICT);
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_write(c1));
    st = rv_status(c1);
    g_assert_cmpuint(st.regctl, ==, 2);
    g_assert_cmpuint(st.reg[0].rcsts, ==, 1);
    g_assert_cmpuint(st.reg[1].rcsts, ==, 1);
    /* a holder acquiring the same type succeeds */
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_ALL, RV_KEY_B, 0));

    /* the first holder leaves: the reservation stays with the other */
    qnvme_assert_ok(rv_register(c0, NVME_RESV_UNREGISTER, RV_KEY_A, 0));
    g_assert_cmpuint(rv_status(c0).rtype, ==, NVME_RESV_WRITE_EXCL_ALL);
    qnvme_assert_status(rv_write(c0), RV_CONFLICT);

    /* PRKEY 0: the others are unregistered, the type changes */
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_PREEMPT,
                               NVME_RESV_EXCL_ACCESS, RV_KEY_B, 0));
    st = rv_status(c1);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_EXCL_ACCESS);
    g_assert_cmpuint(st.regctl, ==, 1);
    g_assert_cmpuint(st.reg[0].cntlid, ==, RV_CNTLID1);
    rv_assert_notice(c0, 1, NVME_RESV_NOTICE_REG_PREEMPTED, 0);
    qnvme_assert_status(rv_read(c0), RV_CONFLICT);

    /* the holder changes the type with its own key */
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_PREEMPT,
                               NVME_RESV_EXCL_ACCESS_ALL, RV_KEY_B, RV_KEY_B));
    st = rv_status(c1);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_EXCL_ACCESS_ALL);
    g_assert_cmpuint(st.regctl, ==, 1);
    /* the last registrant of an all-registrants reservation ends it */
    qnvme_assert_ok(rv_register(c1, NVME_RESV_UNREGISTER, RV_KEY_B, 0));
    st = rv_status(c1);
    g_assert_cmpuint(st.regctl, ==, 0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_NONE);
    qnvme_assert_ok(rv_read(c0));
    rv_shutdown(c0, c1);
}

/* Release tells the registrants; Clear ends everything and tells them too */
static void test_release_clear(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    RvStatus st;

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_EXCL_ACCESS_REGS, RV_KEY_A, 0));
    /* a registrant that does not hold it releases nothing */
    qnvme_assert_ok(rv_release(c1, NVME_RESV_RELEASE,
                               NVME_RESV_EXCL_ACCESS_REGS, RV_KEY_B));
    g_assert_cmpuint(rv_status(c1).rtype, ==, NVME_RESV_EXCL_ACCESS_REGS);
    rv_assert_no_notice(c0);

    qnvme_assert_ok(rv_release(c0, NVME_RESV_RELEASE,
                               NVME_RESV_EXCL_ACCESS_REGS, RV_KEY_A));
    rv_assert_notice(c1, 1, NVME_RESV_NOTICE_RELEASED, 0);
    rv_assert_no_notice(c0);

    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE, NVME_RESV_EXCL_ACCESS,
                               RV_KEY_A, 0));
    qnvme_assert_status(rv_release(c1, NVME_RESV_CLEAR, 0, RV_KEY_A),
                        RV_CONFLICT);
    qnvme_assert_ok(rv_release(c1, NVME_RESV_CLEAR, 0, RV_KEY_B));
    st = rv_status(c0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_NONE);
    g_assert_cmpuint(st.regctl, ==, 0);
    g_assert_cmpuint(st.gen, ==, 3);
    rv_assert_notice(c0, 1, NVME_RESV_NOTICE_PREEMPTED, 0);
    rv_assert_no_notice(c1);
    qnvme_assert_ok(rv_write(c1));
    rv_shutdown(c0, c1);
}

/*
 * The extended report (EDS) carries 128-bit host ids; a host that set one
 * must ask for it. NUMD shorter than the status cuts it there.
 */
static void test_report_formats(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    uint8_t buf[NVME_RESV_STATUS_EXT_SIZE + 2 * sizeof(NvmeResvCtrlExt)];
    NvmeResvStatus *hdr = (NvmeResvStatus *)buf;
    NvmeResvCtrlExt *e = (NvmeResvCtrlExt *)(buf + NVME_RESV_STATUS_EXT_SIZE);
    uint8_t id128[16];
    uint64_t hostid_a = cpu_to_le64(RV_HOST_A);

    for (unsigned i = 0; i < sizeof(id128); i++) {
        id128[i] = 0x80 + i;
    }
    qnvme_assert_ok(rv_set_host(c1, id128, true));
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_ACQUIRE, NVME_RESV_WRITE_EXCL,
                               RV_KEY_B, 0));

    qnvme_assert_status(rv_report(c1, false, buf, 64), RV_HOSTID);
    qnvme_assert_ok(rv_report(c1, true, buf, sizeof(buf)));
    g_assert_cmpuint(le32_to_cpu(hdr->gen), ==, 2);
    g_assert_cmpuint(hdr->rtype, ==, NVME_RESV_WRITE_EXCL);
    g_assert_cmpuint(le16_to_cpu(hdr->regctl), ==, 2);
    g_assert_true(qnvme_all_zero(buf + sizeof(*hdr),
                                 NVME_RESV_STATUS_EXT_SIZE - sizeof(*hdr)));
    g_assert_cmpuint(le16_to_cpu(e[0].cntlid), ==, RV_CNTLID0);
    g_assert_cmpuint(e[0].rcsts, ==, 0);
    g_assert_cmphex(le64_to_cpu(e[0].rkey), ==, RV_KEY_A);
    g_assert_true(memcmp(e[0].hostid, &hostid_a, 8) == 0);
    g_assert_true(qnvme_all_zero(e[0].hostid + 8, 8));
    g_assert_cmpuint(le16_to_cpu(e[1].cntlid), ==, RV_CNTLID1);
    g_assert_cmpuint(e[1].rcsts, ==, 1);
    g_assert_cmphex(le64_to_cpu(e[1].rkey), ==, RV_KEY_B);
    g_assert_true(memcmp(e[1].hostid, id128, 16) == 0);
    g_assert_true(qnvme_all_zero(e[1].rsvd32, sizeof(e[1].rsvd32)));

    /* only what NUMD asks for: the header and half an entry */
    memset(buf, 0, sizeof(buf));
    qnvme_assert_ok(rv_report(c0, true, buf, NVME_RESV_STATUS_EXT_SIZE + 32));
    g_assert_cmpuint(le16_to_cpu(hdr->regctl), ==, 2);
    g_assert_cmpuint(le16_to_cpu(e[0].cntlid), ==, RV_CNTLID0);
    /* the short form from the 64-bit host */
    g_assert_cmpuint(rv_status(c0).reg[1].cntlid, ==, RV_CNTLID1);
    rv_shutdown(c0, c1);
}

/*
 * One host over two paths: both controllers keep Host Identifier 0, so a
 * registration through one counts for the other, and the report lists both.
 */
static void test_same_host_two_paths(void)
{
    QNvmeCtrl *c0 = qnvme_boot_io_with(RV_DEVS);
    QNvmeCtrl *c1 = qnvme_attach(c0, QNVME_SLOT2);
    RvStatus st;

    qnvme_enable(c1);
    qnvme_create_ioq_pair(c1, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_ACQUIRE, NVME_RESV_EXCL_ACCESS,
                               RV_KEY_A, 0));
    qnvme_assert_ok(rv_write(c0));
    qnvme_assert_ok(rv_read(c1));
    st = rv_status(c0);
    g_assert_cmpuint(st.regctl, ==, 2);
    g_assert_cmpuint(st.reg[0].cntlid, ==, RV_CNTLID0);
    g_assert_cmpuint(st.reg[1].cntlid, ==, RV_CNTLID1);
    g_assert_cmpuint(st.reg[0].rcsts & st.reg[1].rcsts, ==, 1);
    /* another host's controller would be fenced: c1 becomes host B */
    qnvme_assert_status(rv_set_host(c1, &(uint64_t){ 5 }, false),
                        RV_SEQUENCE);
    rv_shutdown(c0, c1);
}

/* A registered host keeps its identity; an unregistered one may change it */
static void test_host_id_locked(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    uint64_t same = cpu_to_le64(RV_HOST_A), other = cpu_to_le64(7);

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_status(rv_set_host(c0, &other, false), RV_SEQUENCE);
    qnvme_assert_ok(rv_set_host(c0, &same, false));
    qnvme_assert_ok(rv_set_host(c1, &other, false));
    qnvme_assert_ok(rv_register(c0, NVME_RESV_UNREGISTER, RV_KEY_A, 0));
    qnvme_assert_ok(rv_set_host(c0, &other, false));
    rv_shutdown(c0, c1);
}

/* Feature 82h masks notice types; 83h and CPTPL refuse PTPL */
static void test_mask_and_persist(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    uint32_t dw0 = 0;
    uint16_t aer;

    qnvme_assert_status(qnvme_set_features(c1, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_MASK, .nsid = 1, .dw11 = 1 }, NULL),
        RV_INVALID);
    qnvme_assert_status(qnvme_get_features(c1, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_MASK, .nsid = NVME_NSID_BROADCAST }, NULL),
        RV_INVALID);
    qnvme_assert_ok(qnvme_set_features(c1, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_MASK, .nsid = NVME_NSID_BROADCAST,
        .dw11 = BIT(NVME_RESV_NOTICE_RELEASED) }, NULL));
    qnvme_assert_ok(qnvme_get_features(c1, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_MASK, .nsid = 1 }, &dw0));
    g_assert_cmphex(dw0, ==, BIT(NVME_RESV_NOTICE_RELEASED));

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    aer = qnvme_aer_submit(c1);
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, 0));
    qnvme_assert_ok(rv_release(c0, NVME_RESV_RELEASE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A));
    qnvme_assert_pending(c1, 0, aer);
    rv_assert_no_notice(c1);
    /* a type not masked still comes */
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, 0));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_PREEMPT,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, RV_KEY_B));
    qnvme_assert_aer(c1, aer, NVME_AER_TYPE_IO_CMD_SET,
                     NVME_AER_INFO_IO_RESV_LOG, NVME_LOG_RESV_NOTICE);
    rv_assert_notice(c1, 1, NVME_RESV_NOTICE_REG_PREEMPTED, 0);

    /* no Persist Through Power Loss: RESCAP bit 0 is clear */
    qnvme_assert_status(qnvme_set_features(c0, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_PERSIST, .nsid = 1, .dw11 = 1 }, NULL),
        RV_INVALID);
    qnvme_assert_ok(qnvme_set_features(c0, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_PERSIST, .nsid = 1, .dw11 = 0 }, NULL));
    dw0 = 0xffffffff;
    qnvme_assert_ok(qnvme_get_features(c0, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_PERSIST, .nsid = 1 }, &dw0));
    g_assert_cmphex(dw0, ==, 0);
    /*
     * CPTPL 11b without PTPL in RESCAP (as Linux sends it in every
     * Register): the Register works, PTPL stays 0
     */
    qnvme_assert_ok(rv_register_full(c1, NVME_RESV_REGISTER, 0, RV_KEY_B,
                                     false, NVME_RESV_CPTPL_ON));
    {
        uint8_t hdr[sizeof(NvmeResvStatus)];

        qnvme_assert_ok(rv_report(c1, false, hdr, sizeof(hdr)));
        g_assert_cmpuint(((NvmeResvStatus *)hdr)->ptpls, ==, 0);
    }
    qnvme_assert_status(rv_register_full(c1, NVME_RESV_REGISTER, 0, RV_KEY_B,
                                         false, 1),
                        RV_INVALID);
    qnvme_assert_ok(rv_register_full(c1, NVME_RESV_REGISTER, 0, RV_KEY_B,
                                     false, NVME_RESV_CPTPL_OFF));
    rv_shutdown(c0, c1);
}

/* Reserved actions and types are invalid fields, checked before the keys */
static void test_invalid(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);
    uint8_t none[16] = { 0 };

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_status(rv_register(c0, 3, 0, RV_KEY_A), RV_INVALID);
    qnvme_assert_status(rv_acquire(c0, 3, NVME_RESV_WRITE_EXCL, RV_KEY_A, 0),
                        RV_INVALID);
    qnvme_assert_status(rv_acquire(c0, NVME_RESV_ACQUIRE, 0, RV_KEY_A, 0),
                        RV_INVALID);
    qnvme_assert_status(rv_acquire(c0, NVME_RESV_ACQUIRE, 7, RV_KEY_A, 0),
                        RV_INVALID);
    qnvme_assert_status(rv_release(c0, 2, NVME_RESV_WRITE_EXCL, RV_KEY_A),
                        RV_INVALID);
    qnvme_assert_status(rv_send(c0, NVME_IO_RESV_RELEASE,
                                rv_dw10(NVME_RESV_RELEASE, 1, false),
                                none, 8), RV_CONFLICT);
    g_assert_cmpuint(rv_status(c0).rtype, ==, NVME_RESV_NONE);
    g_assert_cmpuint(rv_status(c0).gen, ==, 1);
    /* IEKEY is Register's only (RESCAP bit 7): Acquire still needs the key */
    qnvme_assert_status(rv_send(c0, NVME_IO_RESV_ACQUIRE,
                                rv_dw10(NVME_RESV_ACQUIRE,
                                        NVME_RESV_WRITE_EXCL, true),
                                none, 16), RV_CONFLICT);
    rv_shutdown(c0, c1);
}

/*
 * The notification log keeps NVME_RESV_NOTICES_MAX (64) unread entries;
 * later ones are lost, which the counts show as a gap.
 */
static void test_notice_log_bounded(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts(&c1);

    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    for (unsigned i = 0; i < 70; i++) {
        qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                                   NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, 0));
        qnvme_assert_ok(rv_release(c0, NVME_RESV_RELEASE,
                                   NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A));
    }
    for (unsigned i = 1; i <= 64; i++) {
        rv_assert_notice(c1, i, NVME_RESV_NOTICE_RELEASED, 64 - i);
    }
    rv_assert_no_notice(c1);
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_ACQUIRE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A, 0));
    qnvme_assert_ok(rv_release(c0, NVME_RESV_RELEASE,
                               NVME_RESV_WRITE_EXCL_REGS, RV_KEY_A));
    rv_assert_notice(c1, 71, NVME_RESV_NOTICE_RELEASED, 0);
    rv_shutdown(c0, c1);
}

/*
 * A registrant's controller unplugged: its registration stays (it belongs
 * to the host) and the report lists it with CNTLID FFFFh.
 */
static void test_unplugged_registrant(void)
{
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = rv_boot_two_hosts_on("pc", &c1);
    RvStatus st;

    qnvme_assert_ok(rv_register(c1, NVME_RESV_REGISTER, 0, RV_KEY_B));
    qnvme_assert_ok(rv_acquire(c1, NVME_RESV_ACQUIRE, NVME_RESV_WRITE_EXCL,
                               RV_KEY_B, 0));
    qnvme_shutdown(c1);
    qpci_unplug_acpi_device_test(c0->qts, "c1", QNVME_SLOT2);
    st = rv_status(c0);
    g_assert_cmpuint(st.regctl, ==, 1);
    g_assert_cmphex(st.reg[0].cntlid, ==, NVME_RESV_CNTLID_UNKNOWN);
    g_assert_cmphex(st.reg[0].hostid, ==, RV_HOST_B);
    g_assert_cmpuint(st.reg[0].rcsts, ==, 1);
    qnvme_assert_status(rv_write(c0), RV_CONFLICT);
    /* the surviving host takes over with the absent host's key */
    qnvme_assert_ok(rv_register(c0, NVME_RESV_REGISTER, 0, RV_KEY_A));
    qnvme_assert_ok(rv_acquire(c0, NVME_RESV_PREEMPT, NVME_RESV_WRITE_EXCL,
                               RV_KEY_A, RV_KEY_B));
    qnvme_assert_ok(rv_write(c0));
    qnvme_shutdown(c0);
}

static const QNvmeTest rv_tests[] = {
    { "identify", test_identify },
    { "host-id", test_host_id },
    { "register", test_register },
    { "write-exclusive", test_write_exclusive },
    { "exclusive-access-registrants", test_exclusive_access_registrants },
    { "preempt", test_preempt },
    { "all-registrants", test_all_registrants },
    { "release-clear", test_release_clear },
    { "report-formats", test_report_formats },
    { "same-host-two-paths", test_same_host_two_paths },
    { "host-id-locked", test_host_id_locked },
    { "mask-and-persist", test_mask_and_persist },
    { "invalid", test_invalid },
    { "notice-log-bounded", test_notice_log_bounded },
    { "unplugged-registrant", test_unplugged_registrant },
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("/nvme-resv", rv_tests, ARRAY_SIZE(rv_tests));
    return g_test_run();
}
