/*
 * qtests for NVMe subsystems: several controllers of one nvme-subsys,
 * shared and private namespaces, Namespace Attachment, and Asymmetric
 * Namespace Access (NVMe Base 2.0, 2.4, 3.2, 5.22, 8.1), with the monitor
 * commands that change ANA states. The host driver is libqos/nvme.c.
 *
 * Map: helpers, subsystems (Identify, data through several paths, private
 * and detached namespaces, the Identify lists of CNS 10h-13h), Namespace
 * Attachment, ANA (log page, events, I/O per state, transitions, the
 * monitor), monitor errors, and main() with the list of tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "libqos/nvme.h"

#define QNVME_SLOT3         6           /* a third controller */
#define QNVME_ADDR3         "addr=6.0"
#define MAX_CTRLS           3
#define SUBNQN              "nqn.2019-08.org.qemu:s0"
#define MS                  (1000 * 1000)   /* virtual clock steps, in ns */

/* Status values as the CQE carries them (without the phase tag) */
#define ST_INVALID_FIELD    QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_INVALID_FIELD)
#define ST_INVALID_NSID     QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NSID)
#define ST_CMD(sc)          QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC, sc)
#define ST_PATH(sc)         QNVME_ST(NVME_SCT_PATH, sc)   /* never DNR */

/* Lists given in place, ended by 0 (no NSID or CNTLID is 0); NULL: none */
#define NSIDS(...)          ((const uint32_t[]){ __VA_ARGS__, 0 })
#define CNTLIDS(...)        ((const uint16_t[]){ __VA_ARGS__, 0 })

/* ---- helpers ------------------------------------------------------------ */

static int nsids_len(const uint32_t *nsids)
{
    int nr = 0;

    while (nsids && nsids[nr]) {
        nr++;
    }
    return nr;
}

static int cntlids_len(const uint16_t *ids)
{
    int nr = 0;

    while (ids && ids[nr]) {
        nr++;
    }
    return nr;
}

/* The controllers of one machine, in slots 4, 5 and 6 */
typedef struct Topo {
    QNvmeCtrl *ctrl[MAX_CTRLS];
    int nr;
} Topo;

/* Boot @devs with @nr controllers, each enabled with I/O queue pair 1 */
static Topo boot_topo(const char *devs, int nr)
{
    static const int slots[MAX_CTRLS] = {
        QNVME_SLOT, QNVME_SLOT2, QNVME_SLOT3
    };
    Topo t = { .nr = nr };

    t.ctrl[0] = qnvme_boot_io_with(devs);
    for (int i = 1; i < nr; i++) {
        t.ctrl[i] = qnvme_attach(t.ctrl[0], slots[i]);
        qnvme_enable(t.ctrl[i]);
        qnvme_create_ioq_pair(t.ctrl[i], 1, QNVME_IOQ_ENTRIES);
    }
    return t;
}

static void topo_shutdown(Topo *t)
{
    for (int i = t->nr - 1; i >= 0; i--) {
        qnvme_shutdown(t->ctrl[i]);
    }
}

/* The active NSID list of @c is exactly @want (base 5.17.2.3) */
static void assert_active(QNvmeCtrl *c, const uint32_t *want)
{
    uint32_t list[NVME_NSID_LIST_MAX];
    int nr = nsids_len(want);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST }, list));
    for (int i = 0; i < nr; i++) {
        g_assert_cmpuint(le32_to_cpu(list[i]), ==, want[i]);
    }
    g_assert_true(qnvme_all_zero(&list[nr], sizeof(list) - nr * 4));
}

/*
 * @nsid is inactive on @c: not listed, Identify Namespace all zeroes, and
 * I/O refused with Invalid Field (base 3.2.1.4, 5.17.2.1)
 */
static void assert_inactive(QNvmeCtrl *c, uint32_t nsid)
{
    uint32_t list[NVME_NSID_LIST_MAX];
    uint8_t data[512] = { 0 };
    NvmeIdNs id;

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST }, list));
    for (int i = 0; i < NVME_NSID_LIST_MAX && list[i]; i++) {
        g_assert_cmpuint(le32_to_cpu(list[i]), !=, nsid);
    }
    qnvme_identify_ns(c, nsid, &id);
    g_assert_true(qnvme_all_zero(&id, sizeof(id)));
    qnvme_assert_status(qnvme_read_blocks(c, 1, nsid, 0, 1), ST_INVALID_FIELD);
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_WRITE, nsid, 0, 1, data,
                                    sizeof(data)), ST_INVALID_FIELD);
}

/* Identify CNS @cns (12h or 13h) from CNTID @from lists exactly @want */
static void assert_ctrl_list(QNvmeCtrl *c, uint8_t cns, uint32_t nsid,
                             uint16_t from, const uint16_t *want)
{
    uint16_t list[NVME_IDENTIFY_SIZE / 2];
    int nr = cntlids_len(want);
    NvmeSqe cmd = {
        .opcode = NVME_ADM_IDENTIFY, .nsid = nsid,
        .cdw10 = FIELD_DP32(cns, NVME_IDENTIFY_DW10, CNTID, from),
    };

    qnvme_assert_ok(qnvme_admin_read(c, &cmd, list, sizeof(list), NULL));
    g_assert_cmpuint(le16_to_cpu(list[0]), ==, nr);
    for (int i = 0; i < nr; i++) {
        g_assert_cmpuint(le16_to_cpu(list[i + 1]), ==, want[i]);
    }
    g_assert_true(qnvme_all_zero(&list[nr + 1], sizeof(list) - (nr + 1) * 2));
}

/* Identify CNS 10h after @after lists exactly @want (base 5.17.2.12) */
static void assert_allocated(QNvmeCtrl *c, uint32_t after,
                             const uint32_t *want)
{
    uint32_t list[NVME_NSID_LIST_MAX];
    int nr = nsids_len(want);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ALLOCATED_NS_LIST,
                        .nsid = after }, list));
    for (int i = 0; i < nr; i++) {
        g_assert_cmpuint(le32_to_cpu(list[i]), ==, want[i]);
    }
    g_assert_true(qnvme_all_zero(&list[nr], sizeof(list) - nr * 4));
}

static uint16_t attach(QNvmeCtrl *c, uint32_t nsid, const uint16_t *ids)
{
    int nr = cntlids_len(ids);

    return qnvme_ns_attachment(c, NVME_NS_ATTACH, nsid, nr, ids, nr);
}

static uint16_t detach(QNvmeCtrl *c, uint32_t nsid, const uint16_t *ids)
{
    int nr = cntlids_len(ids);

    return qnvme_ns_attachment(c, NVME_NS_DETACH, nsid, nr, ids, nr);
}

/* Read the Changed Namespace List (RAE 0): exactly @want (base 5.16.1.5) */
static void assert_changed_ns(QNvmeCtrl *c, const uint32_t *want)
{
    g_autofree NvmeChangedNsLog *log = g_new(NvmeChangedNsLog, 1);
    int nr = nsids_len(want);

    qnvme_read_log(c, NVME_LOG_CHANGED_NS, log, sizeof(*log));
    for (int i = 0; i < nr; i++) {
        g_assert_cmpuint(le32_to_cpu(log->nsid[i]), ==, want[i]);
    }
    g_assert_true(qnvme_all_zero(&log->nsid[nr], sizeof(*log) - nr * 4));
}

static void assert_ns_attr_aer(QNvmeCtrl *c, uint16_t aer)
{
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_NS_ATTR, NVME_LOG_CHANGED_NS);
}

static void assert_ana_aer(QNvmeCtrl *c, uint16_t aer)
{
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_NOTICE,
                     NVME_AER_INFO_NOTICE_ANA_CHANGE, NVME_LOG_ANA);
}

/* ---- the ANA log page (base 5.16.1.12) ---------------------------------- */

/* Descriptor @i is group @grpid in @state with exactly the NSIDs @nsids */
static void assert_ana_desc(const QNvmeAnaLog *log, int i, uint32_t grpid,
                            uint8_t state, const uint32_t *nsids)
{
    const QNvmeAnaDesc *a = &log->desc[i];
    int nr = nsids_len(nsids);

    g_assert_cmpint(i, <, log->ngrps);
    g_assert_cmpuint(a->grpid, ==, grpid);
    g_assert_cmphex(a->state, ==, state);
    g_assert_cmpuint(a->nnsids, ==, nr);
    for (int j = 0; j < nr && j < QNVME_ANA_DESC_NSIDS; j++) {
        g_assert_cmpuint(a->nsids[j], ==, nsids[j]);
    }
}

/* ---- the monitor -------------------------------------------------------- */

/* nvme-ana-set-state, which must succeed */
static void ana_set(QTestState *qts, const char *id, uint32_t grpid,
                    const char *state)
{
    qtest_qmp_assert_success(qts, "{'execute': 'nvme-ana-set-state', "
                             "'arguments': {'id': %s, 'grpid': %u, "
                             "'state': %s}}", id, grpid, state);
}

/* The next NVME_ANA_STATE_CHANGED event already received says this */
static void assert_ana_event(QTestState *qts, const char *ctrl,
                             uint16_t cntlid, uint32_t grpid,
                             const char *state, uint64_t chgcnt)
{
    QDict *ev = qtest_qmp_event_ref(qts, "NVME_ANA_STATE_CHANGED");
    QDict *data;

    g_assert_nonnull(ev);
    if (!ev) {
        return;
    }
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "controller"), ==, ctrl);
    g_assert_cmpint(qdict_get_int(data, "cntlid"), ==, cntlid);
    g_assert_cmpint(qdict_get_int(data, "grpid"), ==, grpid);
    g_assert_cmpstr(qdict_get_str(data, "state"), ==, state);
    g_assert_cmpint(qdict_get_int(data, "change-count"), ==, chgcnt);
    qobject_unref(ev);
}

/*
 * No NVME_ANA_STATE_CHANGED event: libqtest only keeps the events that came
 * before a command's answer, so ask something first to receive them all
 */
static void assert_no_ana_event(QTestState *qts)
{
    QDict *ev;

    qobject_unref(qtest_qmp(qts, "{'execute': 'query-status'}"));
    ev = qtest_qmp_event_ref(qts, "NVME_ANA_STATE_CHANGED");

    g_assert_null(ev);
    qobject_unref(ev);
}

/* query-nvme-ana's entry of controller @ctrl, or NULL (a new reference) */
static QDict *ana_query_ctrl(QTestState *qts, const char *ctrl)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-nvme-ana'}");
    QDict *found = NULL;
    QListEntry *s, *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), s) {
        QDict *subsys = qobject_to(QDict, qlist_entry_obj(s));

        QLIST_FOREACH_ENTRY(qdict_get_qlist(subsys, "controllers"), e) {
            QDict *cd = qobject_to(QDict, qlist_entry_obj(e));

            if (!found && !strcmp(qdict_get_str(cd, "id"), ctrl)) {
                found = cd;
                qobject_ref(found);
            }
        }
    }
    qobject_unref(rsp);
    return found;
}

/* In @cd (a controller of query-nvme-ana), group @grpid, or NULL */
static QDict *ana_query_group(QDict *cd, uint32_t grpid)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(cd, "groups"), e) {
        QDict *gd = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(gd, "grpid") == grpid) {
            return gd;
        }
    }
    return NULL;
}

/* query-nvme-ana: @ctrl's change count, and group @grpid's state and NSIDs */
static void assert_query(QTestState *qts, const char *ctrl, uint64_t chgcnt,
                         uint32_t grpid, const char *state,
                         const uint32_t *nsids)
{
    int nr = nsids_len(nsids);
    QDict *cd = ana_query_ctrl(qts, ctrl);
    QDict *gd = cd ? ana_query_group(cd, grpid) : NULL;
    QListEntry *e;
    int i = 0;

    g_assert_nonnull(gd);
    if (gd) {
        g_assert_cmpint(qdict_get_int(cd, "change-count"), ==, chgcnt);
        g_assert_cmpstr(qdict_get_str(gd, "state"), ==, state);
        QLIST_FOREACH_ENTRY(qdict_get_qlist(gd, "nsids"), e) {
            g_assert_cmpint(i, <, nr);
            if (i < nr) {
                g_assert_cmpint(qnum_get_int(qobject_to(QNum,
                                qlist_entry_obj(e))), ==, nsids[i]);
            }
            i++;
        }
        g_assert_cmpint(i, ==, nr);
    }
    qobject_unref(cd);
}

/* An HMP command's output, its CR LF line ends made LF */
static char *hmp(QTestState *qts, const char *cmd)
{
    g_autofree char *out = qtest_hmp(qts, "%s", cmd);
    g_auto(GStrv) parts = g_strsplit(out, "\r", -1);

    return g_strjoinv("", parts);
}

/* ---- subsystems: several controllers (base 2.4, 3.2) -------------------- */

/* Two controllers: NSID 1 shared, NSID 2 private to c1 */
#define SUBSYS2_DEVS \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=sb,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0 " \
    "-device nvme-ns,drive=d1,nsid=2,bus=c1"

/* Three: NSID 1 shared, 2 private to c2, 3 shared but detached=on */
#define SUBSYS3_DEVS \
    "-drive if=none,id=d2,driver=null-co,read-zeroes=on,size=4M " \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=sb,subsys=s0 " \
    "-device nvme,id=c2," QNVME_ADDR3 ",serial=sc,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0 " \
    "-device nvme-ns,drive=d1,nsid=2,bus=c2 " \
    "-device nvme-ns,drive=d2,nsid=3,subsys=s0,detached=on"

/*
 * Every controller: one SUBNQN, its own CNTLID, CMIC bit 1, the same model
 * and firmware; NMIC bit 0 on the shared namespace only (base 5.17.2.1/2)
 */
static void identify_case(const char *devs, int nr, uint32_t private_nsid)
{
    Topo t = boot_topo(devs, nr);
    NvmeIdCtrl first;
    NvmeIdNs priv;

    qnvme_identify_ctrl(t.ctrl[0], &first);
    for (int i = 0; i < nr; i++) {
        g_autofree NvmeIdNsIndep *indep = g_new(NvmeIdNsIndep, 1);
        NvmeIdCtrl id;
        NvmeIdNs ns;

        qnvme_identify_ctrl(t.ctrl[i], &id);
        g_assert_cmpstr(id.subnqn, ==, SUBNQN);
        g_assert_cmpuint(le16_to_cpu(id.cntlid), ==, i + 1);
        g_assert_cmphex(id.cmic & NVME_CMIC_MULTI_CTRL, ==,
                        NVME_CMIC_MULTI_CTRL);
        g_assert_true(memcmp(id.mn, first.mn, sizeof(id.mn)) == 0);
        g_assert_true(memcmp(id.fr, first.fr, sizeof(id.fr)) == 0);
        qnvme_identify_ns(t.ctrl[i], 1, &ns);
        g_assert_cmphex(ns.nmic & NVME_NMIC_SHARED, ==, NVME_NMIC_SHARED);
        g_assert_cmpuint(le64_to_cpu(ns.nsze), ==, QNVME_IMG0_SIZE / 512);
        qnvme_assert_ok(qnvme_identify(t.ctrl[i], &(QNvmeIdentify){
                            .cns = NVME_CNS_CS_INDEP_NS, .nsid = 1 }, indep));
        g_assert_cmphex(indep->nmic & NVME_NMIC_SHARED, ==, NVME_NMIC_SHARED);
    }
    /* the private namespace is on the last controller */
    qnvme_identify_ns(t.ctrl[nr - 1], private_nsid, &priv);
    g_assert_cmpuint(le64_to_cpu(priv.nsze), ==, QNVME_IMG1_SIZE / 512);
    g_assert_cmphex(priv.nmic & NVME_NMIC_SHARED, ==, 0);
    topo_shutdown(&t);
}

static void test_subsys_identify_two(void)
{
    identify_case(SUBSYS2_DEVS, 2, 2);
}

static void test_subsys_identify_three(void)
{
    identify_case(SUBSYS3_DEVS, 3, 2);
}

/* nqn= replaces the id in the NQN */
static void test_subsys_nqn_property(void)
{
    Topo t = boot_topo("-device nvme-subsys,id=s0,nqn=custom "
                       "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 "
                       "-device nvme,id=c1," QNVME_ADDR2 ",serial=sb,subsys=s0 "
                       "-device nvme-ns,drive=d0,nsid=1,subsys=s0", 2);
    NvmeIdCtrl id;

    for (int i = 0; i < 2; i++) {
        qnvme_identify_ctrl(t.ctrl[i], &id);
        g_assert_cmpstr(id.subnqn, ==, "nqn.2019-08.org.qemu:custom");
    }
    topo_shutdown(&t);
}

/* Data written through one controller reads back through the others */
static void test_subsys_shared_ns_data(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    qnvme_write_pattern(t.ctrl[0], 1, 1, 0, 8, 17);
    qnvme_assert_pattern(t.ctrl[1], 1, 1, 0, 8, 17);
    qnvme_assert_pattern(t.ctrl[2], 1, 1, 0, 8, 17);
    qnvme_write_pattern(t.ctrl[2], 1, 1, 64, 16, 18);
    qnvme_assert_pattern(t.ctrl[0], 1, 1, 64, 16, 18);
    qnvme_assert_pattern(t.ctrl[1], 1, 1, 64, 16, 18);
    topo_shutdown(&t);
}

/* A shared namespace has the same identity through every path */
static void test_subsys_shared_ns_same_ids(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);
    g_autofree uint8_t *first = g_malloc(NVME_IDENTIFY_SIZE);
    g_autofree uint8_t *desc = g_malloc(NVME_IDENTIFY_SIZE);
    NvmeIdNs ns0, ns;

    qnvme_identify_ns(t.ctrl[0], 1, &ns0);
    qnvme_assert_ok(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                        .cns = NVME_CNS_NS_DESC_LIST, .nsid = 1 }, first));
    /* what the others must match came from the controller, not the fill */
    g_assert_cmpuint(le64_to_cpu(ns0.nsze), ==, QNVME_IMG0_SIZE / 512);
    g_assert_cmpuint(first[0], >=, NVME_NIDT_EUI64);
    g_assert_cmpuint(first[0], <=, NVME_NIDT_CSI);
    for (int i = 1; i < 3; i++) {
        qnvme_identify_ns(t.ctrl[i], 1, &ns);
        g_assert_true(memcmp(&ns, &ns0, sizeof(ns)) == 0);
        qnvme_assert_ok(qnvme_identify(t.ctrl[i], &(QNvmeIdentify){
                            .cns = NVME_CNS_NS_DESC_LIST, .nsid = 1 }, desc));
        g_assert_true(memcmp(desc, first, NVME_IDENTIFY_SIZE) == 0);
    }
    topo_shutdown(&t);
}

/* A private namespace (bus=c2) is inactive on the other controllers */
static void test_subsys_private_ns(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    for (int i = 0; i < 2; i++) {
        assert_active(t.ctrl[i], NSIDS(1));
        assert_inactive(t.ctrl[i], 2);
    }
    assert_active(t.ctrl[2], NSIDS(1, 2));
    qnvme_write_pattern(t.ctrl[2], 1, 2, 0, 8, 19);
    qnvme_assert_pattern(t.ctrl[2], 1, 2, 0, 8, 19);
    for (int i = 0; i < 3; i++) {
        qnvme_assert_alive(t.ctrl[i]);
    }
    topo_shutdown(&t);
}

/* detached=on: inactive everywhere, yet allocated (listed by CNS 10h) */
static void test_subsys_detached_ns(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    for (int i = 0; i < 3; i++) {
        assert_inactive(t.ctrl[i], 3);
    }
    assert_ctrl_list(t.ctrl[0], NVME_CNS_NS_CTRL_LIST, 3, 0, NULL);
    qnvme_assert_ok(attach(t.ctrl[0], 3, CNTLIDS(2)));
    assert_active(t.ctrl[1], NSIDS(1, 3));
    assert_inactive(t.ctrl[0], 3);
    assert_inactive(t.ctrl[2], 3);
    qnvme_assert_ok(qnvme_read_blocks(t.ctrl[1], 1, 3, 0, 8));
    topo_shutdown(&t);
}

/* CNS 10h: allocated NSIDs above NSID, detached ones included */
static void test_subsys_allocated_ns_list(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    assert_allocated(t.ctrl[2], 0, NSIDS(1, 2, 3));
    assert_allocated(t.ctrl[2], 1, NSIDS(2, 3));
    assert_allocated(t.ctrl[2], 3, NULL);
    /* c0 sees the shared ones; c2's private NSID 2 is not checked here */
    assert_allocated(t.ctrl[0], 2, NSIDS(3));
    qnvme_assert_status(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                            .cns = NVME_CNS_ALLOCATED_NS_LIST,
                            .nsid = NVME_NSID_BROADCAST },
                            (uint32_t[NVME_NSID_LIST_MAX]) { 0 }),
                        ST_INVALID_NSID);
    topo_shutdown(&t);
}

/* CNS 11h: Identify Namespace of an allocated namespace, attached or not */
static void test_subsys_allocated_ns(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);
    NvmeIdNs id;

    qnvme_assert_ok(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                        .cns = NVME_CNS_ALLOCATED_NS, .nsid = 3 }, &id));
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, 4 * MiB / 512);
    g_assert_cmphex(id.nmic & NVME_NMIC_SHARED, ==, NVME_NMIC_SHARED);
    qnvme_assert_ok(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                        .cns = NVME_CNS_ALLOCATED_NS, .nsid = 1 }, &id));
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_IMG0_SIZE / 512);
    /* an NSID no namespace has: zeroes */
    qnvme_assert_ok(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                        .cns = NVME_CNS_ALLOCATED_NS, .nsid = 200 }, &id));
    g_assert_true(qnvme_all_zero(&id, sizeof(id)));
    qnvme_assert_status(qnvme_identify(t.ctrl[0], &(QNvmeIdentify){
                            .cns = NVME_CNS_ALLOCATED_NS }, &id),
                        ST_INVALID_NSID);
    qnvme_assert_alive(t.ctrl[0]);
    topo_shutdown(&t);
}

/* CNS 12h: controllers attached to an NSID, from CNTID up */
static void test_subsys_ns_ctrl_list(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    assert_ctrl_list(t.ctrl[0], NVME_CNS_NS_CTRL_LIST, 1, 0, CNTLIDS(1, 2, 3));
    assert_ctrl_list(t.ctrl[0], NVME_CNS_NS_CTRL_LIST, 1, 2, CNTLIDS(2, 3));
    assert_ctrl_list(t.ctrl[0], NVME_CNS_NS_CTRL_LIST, 1, 4, NULL);
    assert_ctrl_list(t.ctrl[2], NVME_CNS_NS_CTRL_LIST, 2, 0, CNTLIDS(3));
    assert_ctrl_list(t.ctrl[1], NVME_CNS_NS_CTRL_LIST, 3, 0, NULL);
    topo_shutdown(&t);
}

/* CNS 13h: every controller of the subsystem, from CNTID up */
static void test_subsys_ctrl_list(void)
{
    Topo t = boot_topo(SUBSYS3_DEVS, 3);

    assert_ctrl_list(t.ctrl[1], NVME_CNS_CTRL_LIST, 0, 0, CNTLIDS(1, 2, 3));
    assert_ctrl_list(t.ctrl[1], NVME_CNS_CTRL_LIST, 0, 3, CNTLIDS(3));
    assert_ctrl_list(t.ctrl[1], NVME_CNS_CTRL_LIST, 0, 4, NULL);
    topo_shutdown(&t);
}

/* ---- Namespace Attachment (base 5.22) ----------------------------------- */

/* NSID 1 shared, 2 shared and detached, 3 private to c0 */
#define ATTACH_DEVS \
    "-drive if=none,id=d2,driver=null-co,read-zeroes=on,size=4M " \
    "-device nvme-subsys,id=s0 " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=sb,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0 " \
    "-device nvme-ns,drive=d1,nsid=2,subsys=s0,detached=on " \
    "-device nvme-ns,drive=d2,nsid=3,bus=c0"

/* Nothing changed: the attachments are those ATTACH_DEVS starts with */
static void assert_attach_unchanged(Topo *t)
{
    assert_active(t->ctrl[0], NSIDS(1, 3));
    assert_active(t->ctrl[1], NSIDS(1));
    assert_ctrl_list(t->ctrl[0], NVME_CNS_NS_CTRL_LIST, 1, 0, CNTLIDS(1, 2));
    assert_ctrl_list(t->ctrl[0], NVME_CNS_NS_CTRL_LIST, 2, 0, NULL);
    assert_ctrl_list(t->ctrl[0], NVME_CNS_NS_CTRL_LIST, 3, 0, CNTLIDS(1));
    for (int i = 0; i < t->nr; i++) {
        assert_changed_ns(t->ctrl[i], NULL);
        qnvme_assert_alive(t->ctrl[i]);
    }
}

/*
 * Attaching a namespace to another controller: it becomes active there,
 * whose host gets a Namespace Attribute Changed notice and finds the NSID
 * in the Changed Namespace List, which reading with RAE 0 empties
 */
static void test_attach_other_ctrl(void)
{
    Topo t = boot_topo(ATTACH_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0], *c1 = t.ctrl[1];
    uint16_t aer;
    NvmeIdNs id;

    qnvme_set_feature(c1, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c1);
    qnvme_assert_ok(attach(c0, 2, CNTLIDS(2)));
    assert_ns_attr_aer(c1, aer);
    assert_changed_ns(c1, NSIDS(2));
    assert_changed_ns(c1, NULL);
    assert_active(c1, NSIDS(1, 2));
    assert_active(c0, NSIDS(1, 3));
    assert_inactive(c0, 2);
    qnvme_identify_ns(c1, 2, &id);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_IMG1_SIZE / 512);
    qnvme_write_pattern(c1, 1, 2, 0, 8, 20);
    qnvme_assert_pattern(c1, 1, 2, 0, 8, 20);
    assert_ctrl_list(c0, NVME_CNS_NS_CTRL_LIST, 2, 0, CNTLIDS(2));
    topo_shutdown(&t);
}

/* Detaching: inactive again, with another notice and log entry */
static void test_attach_detach(void)
{
    Topo t = boot_topo(ATTACH_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0], *c1 = t.ctrl[1];
    uint16_t aer;

    qnvme_set_feature(c1, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c1);
    qnvme_assert_ok(attach(c0, 2, CNTLIDS(2)));
    assert_ns_attr_aer(c1, aer);
    assert_changed_ns(c1, NSIDS(2));
    aer = qnvme_aer_submit(c1);
    qnvme_assert_ok(detach(c0, 2, CNTLIDS(2)));
    assert_ns_attr_aer(c1, aer);
    assert_changed_ns(c1, NSIDS(2));
    assert_active(c1, NSIDS(1));
    assert_inactive(c1, 2);
    assert_ctrl_list(c0, NVME_CNS_NS_CTRL_LIST, 2, 0, NULL);
    topo_shutdown(&t);
}

/* Without NS attribute notices enabled there is no AER, but the log lists */
static void test_attach_notice_disabled(void)
{
    Topo t = boot_topo(ATTACH_DEVS, 2);
    QNvmeCtrl *c1 = t.ctrl[1];
    uint16_t aer = qnvme_aer_submit(c1);

    qnvme_assert_ok(attach(t.ctrl[0], 2, CNTLIDS(2)));
    qnvme_assert_pending(c1, 0, aer);
    assert_changed_ns(c1, NSIDS(2));
    assert_active(c1, NSIDS(1, 2));
    topo_shutdown(&t);
}

/* One command attaches to both controllers; data flows through both */
static void test_attach_two_ctrls(void)
{
    Topo t = boot_topo(ATTACH_DEVS, 2);

    qnvme_assert_ok(attach(t.ctrl[1], 2, CNTLIDS(1, 2)));
    assert_active(t.ctrl[0], NSIDS(1, 2, 3));
    assert_active(t.ctrl[1], NSIDS(1, 2));
    assert_ctrl_list(t.ctrl[1], NVME_CNS_NS_CTRL_LIST, 2, 0, CNTLIDS(1, 2));
    qnvme_write_pattern(t.ctrl[0], 1, 2, 8, 8, 21);
    qnvme_assert_pattern(t.ctrl[1], 1, 2, 8, 8, 21);
    topo_shutdown(&t);
}

/*
 * A private namespace may be attached to one controller at a time (base
 * 1.5 "private namespace"; 19h Namespace Is Private means "is private and
 * is already attached to one controller"): detached from c0, it may go to
 * c1.
 */
static void test_attach_private_moves(void)
{
    Topo t = boot_topo(ATTACH_DEVS, 2);

    qnvme_assert_ok(detach(t.ctrl[0], 3, CNTLIDS(1)));
    assert_inactive(t.ctrl[0], 3);
    qnvme_assert_ok(attach(t.ctrl[0], 3, CNTLIDS(2)));
    assert_active(t.ctrl[1], NSIDS(1, 3));
    qnvme_assert_alive(t.ctrl[0]);
    qnvme_assert_alive(t.ctrl[1]);
    topo_shutdown(&t);
}

/* A refused Namespace Attachment: its status, and nothing changed */
typedef struct AttachCase {
    uint32_t sel;
    uint32_t nsid;
    uint16_t count;             /* the list's count field */
    int      nr;                /* entries that follow */
    uint16_t ids[3];
    uint16_t want;
} AttachCase;

static const AttachCase already_attached = {
    NVME_NS_ATTACH, 1, 1, 1, { 2 }, ST_CMD(NVME_SC_NS_ALREADY_ATTACHED) };
static const AttachCase not_attached = {
    NVME_NS_DETACH, 2, 1, 1, { 2 }, ST_CMD(NVME_SC_NS_NOT_ATTACHED) };
static const AttachCase private_attached = {
    NVME_NS_ATTACH, 3, 1, 1, { 2 }, ST_CMD(NVME_SC_NS_IS_PRIVATE) };
static const AttachCase unknown_cntlid = {
    NVME_NS_ATTACH, 2, 1, 1, { 7 }, ST_CMD(NVME_SC_CTRL_LIST_INVALID) };
static const AttachCase count_zero = {
    NVME_NS_ATTACH, 2, 0, 1, { 2 }, ST_CMD(NVME_SC_CTRL_LIST_INVALID) };
static const AttachCase duplicate = {
    NVME_NS_ATTACH, 2, 2, 2, { 2, 2 }, ST_CMD(NVME_SC_CTRL_LIST_INVALID) };
/* a valid entry first, then a bad one: the valid one changes nothing */
static const AttachCase bad_after_good = {
    NVME_NS_ATTACH, 2, 3, 3, { 1, 2, 9 }, ST_CMD(NVME_SC_CTRL_LIST_INVALID) };
static const AttachCase detach_bad_after_good = {
    NVME_NS_DETACH, 1, 3, 3, { 1, 2, 1 }, ST_CMD(NVME_SC_CTRL_LIST_INVALID) };
static const AttachCase nsid_zero = {
    NVME_NS_ATTACH, 0, 1, 1, { 2 }, ST_INVALID_NSID };
static const AttachCase nsid_broadcast = {
    NVME_NS_ATTACH, NVME_NSID_BROADCAST, 1, 1, { 2 }, ST_INVALID_NSID };
static const AttachCase sel_reserved = {
    2, 2, 1, 1, { 2 }, ST_INVALID_FIELD };

static void test_attach_error(const void *data)
{
    const AttachCase *ac = data;
    Topo t = boot_topo(ATTACH_DEVS, 2);
    uint16_t aer;

    qnvme_set_feature(t.ctrl[1], NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(t.ctrl[1]);
    qnvme_assert_status_any_dnr(qnvme_ns_attachment(t.ctrl[0], ac->sel,
                                                    ac->nsid, ac->count,
                                                    ac->ids, ac->nr),
                                ac->want);
    qnvme_assert_pending(t.ctrl[1], 0, aer);
    assert_attach_unchanged(&t);
    topo_shutdown(&t);
}

/* ---- ANA (base 8.1) ----------------------------------------------------- */

/*
 * Groups 1 (NSIDs 1 and 3), 2 (NSID 2) on both controllers, 3 (NSID 4,
 * private to c1) on c1 only, 4 (NSID 5, detached) on none. NSID 3 comes
 * first, so that the log's ascending NSIDs are not just creation order.
 */
#define ANA_DEVS \
    "-drive if=none,id=d2,driver=null-co,read-zeroes=on,size=4M " \
    "-drive if=none,id=d3,driver=null-co,read-zeroes=on,size=4M " \
    "-drive if=none,id=d4,driver=null-co,read-zeroes=on,size=4M " \
    "-device nvme-subsys,id=s0,ana=true " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=sb,subsys=s0 " \
    "-device nvme-ns,id=ns3,drive=d2,nsid=3,subsys=s0 " \
    "-device nvme-ns,id=ns1,drive=d0,nsid=1,subsys=s0,ana.grpid=1 " \
    "-device nvme-ns,id=ns2,drive=d1,nsid=2,subsys=s0,ana.grpid=2 " \
    "-device nvme-ns,id=ns4,drive=d3,nsid=4,bus=c1,ana.grpid=3 " \
    "-device nvme-ns,id=ns5,drive=d4,nsid=5,subsys=s0,ana.grpid=4," \
    "detached=on"

/* base 5.17.2.2: what a host needs to accept ANA */
static void test_ana_identify(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    g_autofree NvmeIdNsIndep *indep = g_new(NvmeIdNsIndep, 1);
    NvmeIdCtrl id;
    NvmeIdNs ns;

    for (int i = 0; i < 2; i++) {
        qnvme_identify_ctrl(t.ctrl[i], &id);
        g_assert_cmphex(id.cmic & (NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA), ==,
                        NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA);
        g_assert_cmphex(le32_to_cpu(id.oaes) & NVME_OAES_ANA_CHANGE, ==,
                        NVME_OAES_ANA_CHANGE);
        g_assert_cmpuint(id.anatt, >, 0);
        g_assert_cmphex(id.anacap & 0x1f, ==, 0x1f);  /* every state */
        g_assert_cmpuint(le32_to_cpu(id.anagrpmax), ==, 128);
        g_assert_cmpuint(le32_to_cpu(id.nanagrpid), ==, 128);
        g_assert_cmpuint(le32_to_cpu(id.mnan), >=, 1);
        g_assert_cmpuint(le32_to_cpu(id.mnan), <=, le32_to_cpu(id.nn));
    }
    qnvme_identify_ns(t.ctrl[0], 2, &ns);
    g_assert_cmpuint(le32_to_cpu(ns.anagrpid), ==, 2);
    qnvme_identify_ns(t.ctrl[0], 3, &ns);         /* no ana.grpid: group 1 */
    g_assert_cmpuint(le32_to_cpu(ns.anagrpid), ==, 1);
    qnvme_assert_ok(qnvme_identify(t.ctrl[1], &(QNvmeIdentify){
                        .cns = NVME_CNS_CS_INDEP_NS, .nsid = 4 }, indep));
    g_assert_cmpuint(le32_to_cpu(indep->anagrpid), ==, 3);
    topo_shutdown(&t);
}

/* One descriptor per group with namespaces on the controller, NSIDs up */
static void test_ana_log_page(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeAnaLog log;

    qnvme_read_ana_log(t.ctrl[0], 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 0);
    g_assert_cmpuint(log.ngrps, ==, 2);
    assert_ana_desc(&log, 0, 1, NVME_ANA_OPTIMIZED, NSIDS(1, 3));
    assert_ana_desc(&log, 1, 2, NVME_ANA_OPTIMIZED, NSIDS(2));
    g_assert_cmpuint(log.len, ==, 16 + 32 + 8 + 32 + 4);

    qnvme_read_ana_log(t.ctrl[1], 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 0);
    g_assert_cmpuint(log.ngrps, ==, 3);
    assert_ana_desc(&log, 0, 1, NVME_ANA_OPTIMIZED, NSIDS(1, 3));
    assert_ana_desc(&log, 1, 2, NVME_ANA_OPTIMIZED, NSIDS(2));
    assert_ana_desc(&log, 2, 3, NVME_ANA_OPTIMIZED, NSIDS(4));
    topo_shutdown(&t);
}

/*
 * A change: the log's change count goes up by one, the group's state and
 * change count follow, the other groups and the other controller stay
 */
static void test_ana_log_after_change(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    QNvmeAnaLog log, other;
    uint64_t grp2_chgcnt;

    ana_set(qts, "c0", 2, "inaccessible");
    qnvme_read_ana_log(t.ctrl[0], 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 1);
    assert_ana_desc(&log, 0, 1, NVME_ANA_OPTIMIZED, NSIDS(1, 3));
    assert_ana_desc(&log, 1, 2, NVME_ANA_INACCESSIBLE, NSIDS(2));
    g_assert_cmpuint(log.desc[0].chgcnt, ==, 0);
    g_assert_cmpuint(log.desc[1].chgcnt, >, 0);
    grp2_chgcnt = log.desc[1].chgcnt;

    ana_set(qts, "c0", 1, "non-optimized");
    qnvme_read_ana_log(t.ctrl[0], 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 2);
    assert_ana_desc(&log, 0, 1, NVME_ANA_NON_OPTIMIZED, NSIDS(1, 3));
    assert_ana_desc(&log, 1, 2, NVME_ANA_INACCESSIBLE, NSIDS(2));
    g_assert_cmpuint(log.desc[0].chgcnt, >, 0);
    g_assert_cmpuint(log.desc[1].chgcnt, ==, grp2_chgcnt);

    qnvme_read_ana_log(t.ctrl[1], 0, false, &other);
    g_assert_cmpuint(other.chgcnt, ==, 0);
    assert_ana_desc(&other, 0, 1, NVME_ANA_OPTIMIZED, NSIDS(1, 3));
    assert_ana_desc(&other, 1, 2, NVME_ANA_OPTIMIZED, NSIDS(2));
    topo_shutdown(&t);
}

/* Setting the state a group already has changes nothing, raises nothing */
static void test_ana_same_state(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer;
    QNvmeAnaLog log;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_ANA_CHANGE);
    aer = qnvme_aer_submit(c0);
    ana_set(c0->qts, "c0", 1, "optimized");
    assert_no_ana_event(c0->qts);
    qnvme_assert_pending(c0, 0, aer);
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 0);
    topo_shutdown(&t);
}

/* RGO (LSP bit 0): the descriptors without their NSIDs */
static void test_ana_log_rgo(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeAnaLog log;

    ana_set(t.ctrl[0]->qts, "c1", 3, "persistent-loss");
    qnvme_read_ana_log(t.ctrl[1], NVME_ANA_LSP_RGO, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 1);
    g_assert_cmpuint(log.ngrps, ==, 3);
    assert_ana_desc(&log, 0, 1, NVME_ANA_OPTIMIZED, NULL);
    assert_ana_desc(&log, 1, 2, NVME_ANA_OPTIMIZED, NULL);
    assert_ana_desc(&log, 2, 3, NVME_ANA_PERSISTENT_LOSS, NULL);
    g_assert_cmpuint(log.len, ==, 16 + 3 * 32);
    topo_shutdown(&t);
}

/*
 * @len bytes of @c's ANA log from @off into a buffer that holds 0xee
 * beyond them: exactly that slice of @full arrives, nothing more
 */
static void assert_ana_slice(QNvmeCtrl *c, const uint8_t *full,
                             uint64_t off, size_t len)
{
    g_autofree uint8_t *got = g_malloc(QNVME_ANA_LOG_READ);
    uint64_t buf = qnvme_alloc(c, QNVME_ANA_LOG_READ);
    uint32_t numd = len / 4 - 1;
    NvmeSqe cmd = {
        .opcode = NVME_ADM_GET_LOG_PAGE,
        .cdw10 = NVME_LOG_ANA | R_NVME_LOG_DW10_RAE_MASK |
                 FIELD_DP32(0, NVME_LOG_DW10, NUMDL, numd),
        .cdw12 = off,
    };
    size_t extra = 0;

    qtest_memset(c->qts, buf, 0xee, QNVME_ANA_LOG_READ);
    qnvme_set_prps(c, &cmd, buf, len);
    qnvme_assert_ok(qnvme_admin(c, &cmd, NULL));
    qtest_memread(c->qts, buf, got, QNVME_ANA_LOG_READ);
    g_assert_true(memcmp(got, full + off, len) == 0);
    for (size_t i = len; i < QNVME_ANA_LOG_READ; i++) {
        extra += got[i] != 0xee;
    }
    g_assert_cmpuint(extra, ==, 0);
    guest_free(&c->qs->alloc, buf);
}

/* Offsets (dword aligned) and short lengths read the right slice */
static void test_ana_log_offset(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c1 = t.ctrl[1];
    g_autofree uint8_t *full = g_malloc(QNVME_ANA_LOG_READ);
    uint8_t small[8];

    ana_set(c1->qts, "c1", 2, "non-optimized");
    qnvme_assert_ok(qnvme_get_log(c1, &(QNvmeGetLog){
                        .lid = NVME_LOG_ANA, .rae = true },
                        full, QNVME_ANA_LOG_READ));
    assert_ana_slice(c1, full, 0, 16);          /* the header alone */
    assert_ana_slice(c1, full, 0, 4);
    assert_ana_slice(c1, full, 8, 4);           /* NGRPS and reserved */
    assert_ana_slice(c1, full, 16, 32);         /* group 1's descriptor */
    assert_ana_slice(c1, full, 48, 12);         /* its NSIDs and beyond */
    assert_ana_slice(c1, full, 56, 36);         /* group 2's descriptor */
    assert_ana_slice(c1, full, 100, 40);        /* across the end */
    qnvme_assert_status(qnvme_get_log(c1, &(QNvmeGetLog){
                            .lid = NVME_LOG_ANA, .offset = 2, .rae = true },
                            small, sizeof(small)), ST_INVALID_FIELD);
    qnvme_assert_alive(c1);
    topo_shutdown(&t);
}

/* Attaching a namespace of a new group adds its descriptor; detaching drops */
static void test_ana_log_follows_attach(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeAnaLog log;

    qnvme_assert_ok(attach(t.ctrl[1], 5, CNTLIDS(1)));
    qnvme_read_ana_log(t.ctrl[0], 0, false, &log);
    g_assert_cmpuint(log.ngrps, ==, 3);
    assert_ana_desc(&log, 2, 4, NVME_ANA_OPTIMIZED, NSIDS(5));
    qnvme_read_ana_log(t.ctrl[1], 0, false, &log);
    g_assert_cmpuint(log.ngrps, ==, 3);
    assert_ana_desc(&log, 2, 3, NVME_ANA_OPTIMIZED, NSIDS(4));
    qnvme_assert_ok(detach(t.ctrl[1], 5, CNTLIDS(1)));
    qnvme_read_ana_log(t.ctrl[0], 0, false, &log);
    g_assert_cmpuint(log.ngrps, ==, 2);
    topo_shutdown(&t);
}

/* A change raises a Notice: ANA change, log 0Ch (base 5.2, 8.1.4) */
static void test_ana_aen(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_ANA_CHANGE);
    aer = qnvme_aer_submit(c0);
    qnvme_assert_pending(c0, 0, aer);
    ana_set(c0->qts, "c0", 1, "inaccessible");
    assert_ana_aer(c0, aer);
    assert_ana_event(c0->qts, "c0", 1, 1, "inaccessible", 1);
    topo_shutdown(&t);
}

/* A first change reported, the ANA log not yet read, a second is raised */
static uint16_t ana_second_change(QNvmeCtrl *c0)
{
    uint16_t aer;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_ANA_CHANGE);
    aer = qnvme_aer_submit(c0);
    ana_set(c0->qts, "c0", 1, "inaccessible");
    assert_ana_aer(c0, aer);
    aer = qnvme_aer_submit(c0);
    ana_set(c0->qts, "c0", 2, "non-optimized");
    return aer;
}

/* The notice stays masked until the log is read with RAE 0, then comes */
static void test_ana_aen_masked(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer = ana_second_change(c0);
    QNvmeAnaLog log;

    qnvme_assert_pending(c0, 0, aer);
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 2);
    assert_ana_aer(c0, aer);
    topo_shutdown(&t);
}

/* Reading the log with RAE 1 keeps the notice masked */
static void test_ana_aen_rae(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer = ana_second_change(c0);
    QNvmeAnaLog log;

    qnvme_read_ana_log(c0, 0, true, &log);
    g_assert_cmpuint(log.chgcnt, ==, 2);
    qnvme_assert_pending(c0, 0, aer);
    qnvme_read_ana_log(c0, 0, true, &log);
    qnvme_assert_pending(c0, 0, aer);
    qnvme_read_ana_log(c0, 0, false, &log);
    assert_ana_aer(c0, aer);
    topo_shutdown(&t);
}

/* Without ANA change notices enabled: no AER, the log changes all the same */
static void test_ana_aen_disabled(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer;
    QNvmeAnaLog log;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c0);
    ana_set(c0->qts, "c0", 1, "inaccessible");
    qnvme_assert_pending(c0, 0, aer);
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 1);
    topo_shutdown(&t);
}

/* An ANA notice masked does not mask a namespace attribute notice */
static void test_ana_aen_ns_attr_separate(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    uint16_t aer;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG,
                      NVME_AEC_ANA_CHANGE | NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c0);
    ana_set(c0->qts, "c0", 1, "inaccessible");
    assert_ana_aer(c0, aer);
    aer = qnvme_aer_submit(c0);
    qnvme_assert_ok(attach(t.ctrl[1], 5, CNTLIDS(1)));
    assert_ns_attr_aer(c0, aer);
    /* reading the Changed Namespace List unmasks namespace notices only */
    aer = qnvme_aer_submit(c0);
    assert_changed_ns(c0, NSIDS(5));
    ana_set(c0->qts, "c0", 2, "inaccessible");
    qnvme_assert_pending(c0, 0, aer);   /* ANA notices still masked */
    qnvme_read_ana_log(c0, 0, false, &(QNvmeAnaLog) { 0 });
    assert_ana_aer(c0, aer);
    topo_shutdown(&t);
}

/*
 * Only a controller whose log changed is notified: not the other one, nor
 * this one for a group without namespaces attached to it
 */
static void test_ana_aen_only_affected(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    uint16_t aer[2];

    for (int i = 0; i < 2; i++) {
        qnvme_set_feature(t.ctrl[i], NVME_FEAT_ASYNC_EVENT_CFG,
                          NVME_AEC_ANA_CHANGE);
        aer[i] = qnvme_aer_submit(t.ctrl[i]);
    }
    ana_set(t.ctrl[0]->qts, "c0", 3, "inaccessible");  /* c0 has no NSID 4 */
    ana_set(t.ctrl[0]->qts, "c1", 4, "inaccessible");  /* NSID 5 detached */
    qnvme_assert_pending(t.ctrl[0], 0, aer[0]);
    qnvme_assert_pending(t.ctrl[1], 0, aer[1]);
    ana_set(t.ctrl[0]->qts, "c1", 1, "inaccessible");
    assert_ana_aer(t.ctrl[1], aer[1]);
    qnvme_assert_pending(t.ctrl[0], 0, aer[0]);
    topo_shutdown(&t);
}

/*
 * I/O through a controller in each state (base 8.1.3): path errors
 * without DNR where I/O is refused, and nothing written; the namespace's
 * other path, the controller's other groups and admin commands still work
 */
typedef struct IoStateCase {
    const char *state;
    uint16_t    want;
} IoStateCase;

static const IoStateCase io_optimized = { "optimized", NVME_SC_SUCCESS };
static const IoStateCase io_non_optimized = { "non-optimized",
                                              NVME_SC_SUCCESS };
static const IoStateCase io_inaccessible = {
    "inaccessible", ST_PATH(NVME_SC_ANA_INACCESSIBLE) };
static const IoStateCase io_persistent_loss = {
    "persistent-loss", ST_PATH(NVME_SC_ANA_PERSISTENT_LOSS) };
static const IoStateCase io_change = {
    "change", ST_PATH(NVME_SC_ANA_TRANSITION) };

static void test_ana_io_state(const void *data)
{
    const IoStateCase *ic = data;
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0], *c1 = t.ctrl[1];
    size_t len = 8 * 512;
    g_autofree uint8_t *buf = g_malloc(len);
    uint32_t seed = ic->want ? 22 : 23;     /* what c1 reads at the end */
    uint32_t dw0;
    NvmeIdNs ns;
    QNvmeAnaLog log;

    qnvme_write_pattern(c1, 1, 1, 0, 8, 22);
    /* optimized is the start: go through inaccessible to come back to it */
    ana_set(c0->qts, "c0", 1, "inaccessible");
    ana_set(c0->qts, "c0", 1, ic->state);

    qnvme_assert_status(qnvme_read(c0, 1, 1, 0, 8, buf, len), ic->want);
    qnvme_assert_status(qnvme_read_blocks(c0, 1, 3, 0, 8), ic->want);
    qnvme_pattern(buf, len, 23);
    qnvme_assert_status(qnvme_write(c0, 1, NVME_IO_WRITE, 1, 0, 8, buf, len),
                        ic->want);
    qnvme_assert_pattern(c1, 1, 1, 0, 8, seed);

    qnvme_write_pattern(c0, 1, 2, 0, 8, 24);    /* group 2 */
    qnvme_assert_pattern(c0, 1, 2, 0, 8, 24);
    qnvme_write_pattern(c1, 1, 1, 8, 8, 25);    /* the other path */
    qnvme_assert_pattern(c1, 1, 1, 8, 8, 25);

    qnvme_assert_alive(c0);
    qnvme_identify_ns(c0, 1, &ns);
    g_assert_cmpuint(le32_to_cpu(ns.anagrpid), ==, 1);
    qnvme_assert_ok(qnvme_get_features(c0, &(QNvmeFeat){
                        .fid = NVME_FEAT_NUM_QUEUES }, &dw0));
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.desc[0].grpid, ==, 1);
    topo_shutdown(&t);
}

/*
 * transition-ms: CHANGE at once, the target state once the virtual time
 * has passed, with an event and a notice at each step
 */
static void test_ana_transition(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    QTestState *qts = c0->qts;
    g_autofree char *state = NULL;
    uint16_t aer;
    NvmeCqe cqe;
    QDict *cd;
    QNvmeAnaLog log;

    qnvme_set_feature(c0, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_ANA_CHANGE);
    aer = qnvme_aer_submit(c0);
    qtest_qmp_assert_success(qts, "{'execute': 'nvme-ana-set-state', "
                             "'arguments': {'id': 'c0', 'grpid': 1, "
                             "'state': 'inaccessible', "
                             "'transition-ms': 200}}");
    assert_ana_event(qts, "c0", 1, 1, "change", 1);
    assert_ana_aer(c0, aer);
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 1);
    assert_ana_desc(&log, 0, 1, NVME_ANA_CHANGE, NSIDS(1, 3));
    qnvme_assert_status(qnvme_read_blocks(c0, 1, 1, 0, 1),
                        ST_PATH(NVME_SC_ANA_TRANSITION));
    aer = qnvme_aer_submit(c0);

    /* not yet: a single look at the CQ, no polling that moves the clock */
    qtest_clock_step(qts, 150 * MS);
    g_assert_false(qnvme_cq_peek(c0, 0, &cqe));
    cd = ana_query_ctrl(qts, "c0");
    if (cd && ana_query_group(cd, 1)) {
        state = g_strdup(qdict_get_str(ana_query_group(cd, 1), "state"));
    }
    qobject_unref(cd);
    g_assert_cmpstr(state, ==, "change");
    assert_no_ana_event(qts);

    qtest_clock_step(qts, 100 * MS);
    assert_ana_aer(c0, aer);
    assert_query(qts, "c0", 2, 1, "inaccessible", NSIDS(1, 3));
    assert_ana_event(qts, "c0", 1, 1, "inaccessible", 2);
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 2);
    assert_ana_desc(&log, 0, 1, NVME_ANA_INACCESSIBLE, NSIDS(1, 3));
    qnvme_assert_status(qnvme_read_blocks(c0, 1, 1, 0, 1),
                        ST_PATH(NVME_SC_ANA_INACCESSIBLE));
    topo_shutdown(&t);
}

/* The id of an nvme-subsys: every controller of it changes */
static void test_ana_subsys_id(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    uint16_t aer[2];
    QNvmeAnaLog log;

    for (int i = 0; i < 2; i++) {
        qnvme_set_feature(t.ctrl[i], NVME_FEAT_ASYNC_EVENT_CFG,
                          NVME_AEC_ANA_CHANGE);
        aer[i] = qnvme_aer_submit(t.ctrl[i]);
    }
    ana_set(qts, "s0", 2, "non-optimized");
    assert_ana_event(qts, "c0", 1, 2, "non-optimized", 1);
    assert_ana_event(qts, "c1", 2, 2, "non-optimized", 1);
    for (int i = 0; i < 2; i++) {
        assert_ana_aer(t.ctrl[i], aer[i]);
        qnvme_read_ana_log(t.ctrl[i], 0, false, &log);
        g_assert_cmpuint(log.chgcnt, ==, 1);
        assert_ana_desc(&log, 0, 1, NVME_ANA_OPTIMIZED, NSIDS(1, 3));
        assert_ana_desc(&log, 1, 2, NVME_ANA_NON_OPTIMIZED, NSIDS(2));
    }
    topo_shutdown(&t);
}

/* query-nvme-ana: every (controller, group) state and the change counts */
static void test_ana_query(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-nvme-ana'}");
    QList *list = qdict_get_qlist(rsp, "return");
    QDict *subsys;

    g_assert_cmpuint(qlist_size(list), ==, 1);
    subsys = qobject_to(QDict, qlist_peek(list));
    g_assert_cmpstr(qdict_get_str(subsys, "id"), ==, "s0");
    g_assert_cmpstr(qdict_get_str(subsys, "nqn"), ==, SUBNQN);
    g_assert_cmpuint(qlist_size(qdict_get_qlist(subsys, "controllers")), ==,
                     2);
    qobject_unref(rsp);

    ana_set(qts, "c0", 1, "inaccessible");
    ana_set(qts, "c1", 3, "change");
    ana_set(qts, "c0", 9, "persistent-loss");   /* a group of no namespace */
    assert_query(qts, "c0", 2, 1, "inaccessible", NSIDS(1, 3));
    assert_query(qts, "c0", 2, 2, "optimized", NSIDS(2));
    assert_query(qts, "c0", 2, 9, "persistent-loss", NULL);
    assert_query(qts, "c1", 1, 1, "optimized", NSIDS(1, 3));
    assert_query(qts, "c1", 1, 2, "optimized", NSIDS(2));
    assert_query(qts, "c1", 1, 3, "change", NSIDS(4));
    topo_shutdown(&t);
}

/* The seed's HMP command and its confirmation line */
static void test_ana_hmp_inject(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QNvmeCtrl *c0 = t.ctrl[0];
    g_autofree char *out = hmp(c0->qts,
                               "nvme_ana_inject_state c0 1 inaccessible");
    QNvmeAnaLog log;

    g_assert_cmpstr(out, ==, "c0: ANA state inaccessible(3) injected\n");
    qnvme_read_ana_log(c0, 0, false, &log);
    g_assert_cmpuint(log.chgcnt, ==, 1);
    assert_ana_desc(&log, 0, 1, NVME_ANA_INACCESSIBLE, NSIDS(1, 3));
    qnvme_assert_status(qnvme_read_blocks(c0, 1, 1, 0, 1),
                        ST_PATH(NVME_SC_ANA_INACCESSIBLE));
    assert_query(c0->qts, "c1", 0, 1, "optimized", NSIDS(1, 3));
    topo_shutdown(&t);
}

/* With a transition time: change now, the state later */
static void test_ana_hmp_inject_transition(void)
{
    Topo t = boot_topo(ANA_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    g_autofree char *out = hmp(qts,
                               "nvme_ana_inject_state c1 2 non-optimized 300");

    g_assert_cmpstr(out, ==, "c1: ANA state non-optimized(2) injected\n");
    assert_query(qts, "c1", 1, 2, "change", NSIDS(2));
    qtest_clock_step(qts, 301 * MS);
    assert_query(qts, "c1", 2, 2, "non-optimized", NSIDS(2));
    topo_shutdown(&t);
}

/* Lines of @out that are exactly @want, in this order */
static void assert_lines_in_order(const char *out, const char *const *want)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    int i = 0;

    for (int w = 0; want[w]; w++) {
        while (lines[i] && strcmp(lines[i], want[w])) {
            i++;
        }
        if (!lines[i]) {
            qnvme_fail("no line \"%s\" (in order) in:\n%s", want[w], out);
            return;
        }
    }
}

/* info nvme_ana: the subsystem, each controller, each group's state */
static void test_ana_hmp_info(void)
{
    static const char *const want[] = {
        SUBNQN " (s0)",
        "  controller c0 cntlid 1 change count 1",
        "    group 1: inaccessible, nsids 1 3",
        "    group 2: optimized, nsids 2",
        "  controller c1 cntlid 2 change count 0",
        "    group 1: optimized, nsids 1 3",
        "    group 2: optimized, nsids 2",
        "    group 3: optimized, nsids 4",
        NULL
    };
    Topo t = boot_topo(ANA_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    g_autofree char *out = NULL;

    g_free(hmp(qts, "nvme_ana_inject_state c0 1 inaccessible"));
    out = hmp(qts, "info nvme_ana");
    assert_lines_in_order(out, want);
    topo_shutdown(&t);
}

/* ---- ANA monitor errors: an error, and nothing changed ------------------- */

/* ANA_DEVS, a controller and a subsystem without ANA, and another device */
#define ANA_ERR_DEVS \
    ANA_DEVS " " \
    "-device nvme,id=c2," QNVME_ADDR3 ",serial=sc " \
    "-device nvme-subsys,id=s1 " \
    "-device pci-testdev,id=t0,addr=7.0"

typedef struct MonitorErrorCase {
    const char *qmp_args;       /* nvme-ana-set-state's arguments */
    const char *hmp;
} MonitorErrorCase;

#define MON_ERR(id, grpid, state, hmp_args) { \
    "{'id': '" id "', 'grpid': " #grpid ", 'state': '" state "'}", \
    "nvme_ana_inject_state " hmp_args }

static const MonitorErrorCase mon_unknown_id =
    MON_ERR("nope", 1, "inaccessible", "nope 1 inaccessible");
static const MonitorErrorCase mon_nvme_ns_id =
    MON_ERR("ns1", 1, "inaccessible", "ns1 1 inaccessible");
static const MonitorErrorCase mon_other_device_id =
    MON_ERR("t0", 1, "inaccessible", "t0 1 inaccessible");
static const MonitorErrorCase mon_ctrl_without_ana =
    MON_ERR("c2", 1, "inaccessible", "c2 1 inaccessible");
static const MonitorErrorCase mon_subsys_without_ana =
    MON_ERR("s1", 1, "inaccessible", "s1 1 inaccessible");
static const MonitorErrorCase mon_grpid_zero =
    MON_ERR("c0", 0, "inaccessible", "c0 0 inaccessible");
static const MonitorErrorCase mon_grpid_129 =
    MON_ERR("c0", 129, "inaccessible", "c0 129 inaccessible");
static const MonitorErrorCase mon_grpid_129_subsys =
    MON_ERR("s0", 129, "inaccessible", "s0 129 inaccessible");
static const MonitorErrorCase mon_unknown_state =
    MON_ERR("c0", 1, "broken", "c0 1 broken");
static const MonitorErrorCase mon_transition_too_long = {
    "{'id': 'c0', 'grpid': 1, 'state': 'inaccessible', "
    "'transition-ms': 10001}",
    "nvme_ana_inject_state c0 1 inaccessible 10001" };
static const MonitorErrorCase mon_transition_to_change = {
    "{'id': 'c0', 'grpid': 1, 'state': 'change', 'transition-ms': 100}",
    "nvme_ana_inject_state c0 1 change 100" };

/* query-nvme-ana and both controllers' ANA logs, as one string */
static char *ana_snapshot(Topo *t)
{
    QDict *rsp = qtest_qmp(t->ctrl[0]->qts, "{'execute': 'query-nvme-ana'}");
    g_autoptr(GString) json = qobject_to_json(qdict_get(rsp, "return"));
    GString *snap = g_string_new(json->str);
    uint8_t buf[256];

    qobject_unref(rsp);
    for (int i = 0; i < 2; i++) {
        qnvme_assert_ok(qnvme_get_log(t->ctrl[i], &(QNvmeGetLog){
                            .lid = NVME_LOG_ANA, .rae = true },
                            buf, sizeof(buf)));
        /* a log, not the buffer's fill: NGRPS 2 on c0, 3 on c1 */
        g_assert_cmpuint(lduw_le_p(buf + 8), ==, i ? 3 : 2);
        g_string_append_c(snap, '\n');
        for (size_t j = 0; j < sizeof(buf); j++) {
            g_string_append_printf(snap, "%02x", buf[j]);
        }
    }
    return g_string_free(snap, false);
}

static void test_ana_monitor_error(const void *data)
{
    const MonitorErrorCase *mc = data;
    Topo t = boot_topo(ANA_ERR_DEVS, 2);
    QTestState *qts = t.ctrl[0]->qts;
    g_autofree char *before = ana_snapshot(&t);
    g_autofree char *after_qmp = NULL, *after_hmp = NULL, *out = NULL;
    QDict *rsp;

    rsp = qtest_qmp(qts, "{'execute': 'nvme-ana-set-state', 'arguments': %p}",
                    qobject_from_json(mc->qmp_args, &error_abort));
    g_assert_true(qdict_haskey(rsp, "error"));
    g_assert_false(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    assert_no_ana_event(qts);
    after_qmp = ana_snapshot(&t);
    g_assert_cmpstr(after_qmp, ==, before);

    out = hmp(qts, mc->hmp);
    g_assert_true(g_str_has_prefix(out, "Error: "));
    g_assert_null(strstr(out, "injected"));
    assert_no_ana_event(qts);
    after_hmp = ana_snapshot(&t);
    g_assert_cmpstr(after_hmp, ==, before);
    for (int i = 0; i < 2; i++) {
        qnvme_assert_alive(t.ctrl[i]);
    }
    topo_shutdown(&t);
}

/* ---- the list of tests -------------------------------------------------- */

/* device_add of controller c1 at slot 5 with @props fails, naming @words */
static void it_add_fails(QNvmeCtrl *c, const char *props, const char *words)
{
    g_autofree char *args = g_strdup_printf(
        "{'driver': 'nvme', 'id': 'c1', 'addr': '5.0', %s}", props);
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'device_add', 'arguments': "
                           "%p}", qobject_from_json(args, &error_abort));

    g_assert_true(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), words));
    qobject_unref(rsp);
}

/*
 * iothread=: a controller that joins a subsystem later runs where the
 * subsystem's state is. Without the iothread its siblings use it is
 * refused and nothing changes; with it, it works on the shared namespace at
 * once. A controller of another subsystem shares the iothread meanwhile.
 */
static void test_iothread_hotplug_ctrl(void)
{
    QNvmeCtrl *c0 = qnvme_boot_machine("pc",
        "-object iothread,id=iot -device nvme-subsys,id=s0 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=it-a,subsys=s0,iothread=iot "
        "-device nvme-ns,drive=d0,nsid=1,subsys=s0 "
        "-device nvme,id=c2," QNVME_ADDR3 ",serial=it-c,drive=d1,iothread=iot");
    QNvmeCtrl *c1, *c2 = qnvme_attach(c0, QNVME_SLOT3);

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    qnvme_enable(c2);
    qnvme_create_ioq_pair(c2, 1, QNVME_IOQ_ENTRIES);
    qnvme_write_pattern(c0, 1, 1, 0, 8, 0x1234);
    qnvme_write_pattern(c2, 1, 1, 0, 8, 0x4321);

    it_add_fails(c0, "'serial': 'it-b', 'subsys': 's0'", "same iothread");
    qnvme_assert_pattern(c0, 1, 1, 0, 8, 0x1234);

    qtest_qmp_device_add(c0->qts, "nvme", "c1",
                         "{'addr': '5.0', 'serial': 'it-b', 'subsys': 's0', "
                         "'iothread': 'iot'}");
    c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(c1);
    qnvme_create_ioq_pair(c1, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_pattern(c1, 1, 1, 0, 8, 0x1234);
    qnvme_write_pattern(c1, 1, 1, 8, 8, 0x5678);
    qnvme_assert_pattern(c0, 1, 1, 8, 8, 0x5678);
    qnvme_assert_pattern(c2, 1, 1, 0, 8, 0x4321);
    qnvme_shutdown(c2);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/*
 * iothread=: the first controller of a subsystem with faults injected is
 * refused (their timers are the main loop's), and joins once they are gone
 */
static void test_iothread_faults_first(void)
{
    QNvmeCtrl *c0 = qnvme_boot_machine("pc",
        "-object iothread,id=iot -device nvme-subsys,id=s1 "
        "-device nvme," QNVME_ADDR ",serial=it-f,drive=d0");
    QDict *rsp, *ret;
    int64_t fault;
    QNvmeCtrl *c1;

    rsp = qtest_qmp(c0->qts, "{'execute': 'nvme-fault-inject', 'arguments': "
                    "{'id': 's1', 'kind': 'latency', 'latency-ms': 100, "
                    "'duration-ms': 60000}}");
    ret = qdict_get_qdict(rsp, "return");
    g_assert_nonnull(ret);
    fault = qdict_get_int(ret, "fault");
    qobject_unref(rsp);
    it_add_fails(c0, "'serial': 'it-g', 'subsys': 's1', 'iothread': 'iot'",
                 "faults injected");
    rsp = qtest_qmp(c0->qts, "{'execute': 'nvme-fault-remove', 'arguments': "
                    "{'fault': %" PRId64 "}}", fault);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qtest_qmp_device_add(c0->qts, "nvme", "c1",
                         "{'addr': '5.0', 'serial': 'it-g', 'subsys': 's1', "
                         "'iothread': 'iot'}");
    c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(c1);
    qnvme_assert_alive(c1);
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

static const QNvmeTest tests[] = {
    { "subsys/identify-two", test_subsys_identify_two },
    { "subsys/identify-three", test_subsys_identify_three },
    { "subsys/nqn-property", test_subsys_nqn_property },
    { "subsys/shared-ns-data", test_subsys_shared_ns_data },
    { "subsys/shared-ns-same-ids", test_subsys_shared_ns_same_ids },
    { "subsys/private-ns", test_subsys_private_ns },
    { "subsys/detached-ns", test_subsys_detached_ns },
    { "subsys/cns10-allocated-ns-list", test_subsys_allocated_ns_list },
    { "subsys/cns11-allocated-ns", test_subsys_allocated_ns },
    { "subsys/cns12-ns-ctrl-list", test_subsys_ns_ctrl_list },
    { "subsys/cns13-ctrl-list", test_subsys_ctrl_list },
    { "attach/other-ctrl", test_attach_other_ctrl },
    { "attach/detach", test_attach_detach },
    { "attach/notice-disabled", test_attach_notice_disabled },
    { "attach/two-ctrls", test_attach_two_ctrls },
    { "attach/private-moves", test_attach_private_moves },
    { "ana/identify", test_ana_identify },
    { "ana/log-page", test_ana_log_page },
    { "ana/log-after-change", test_ana_log_after_change },
    { "ana/same-state", test_ana_same_state },
    { "ana/log-rgo", test_ana_log_rgo },
    { "ana/log-offset", test_ana_log_offset },
    { "ana/log-follows-attach", test_ana_log_follows_attach },
    { "ana/aen", test_ana_aen },
    { "ana/aen-masked", test_ana_aen_masked },
    { "ana/aen-rae", test_ana_aen_rae },
    { "ana/aen-disabled", test_ana_aen_disabled },
    { "ana/aen-ns-attr-separate", test_ana_aen_ns_attr_separate },
    { "ana/aen-only-affected", test_ana_aen_only_affected },
    { "ana/transition", test_ana_transition },
    { "ana/subsys-id", test_ana_subsys_id },
    { "ana/query", test_ana_query },
    { "ana/hmp-inject", test_ana_hmp_inject },
    { "ana/hmp-inject-transition", test_ana_hmp_inject_transition },
    { "ana/hmp-info", test_ana_hmp_info },
    { "iothread/hotplug-ctrl", test_iothread_hotplug_ctrl },
    { "iothread/faults-first", test_iothread_faults_first },
};

#define ATTACH_ERR(name) \
    { "attach/error/" #name, test_attach_error, &name }
#define IO_STATE(name) \
    { "ana/io/" #name, test_ana_io_state, &io_##name }
#define MON_ERROR(name) \
    { "ana/monitor-error/" #name, test_ana_monitor_error, &mon_##name }

static const QNvmeDataTest data_tests[] = {
    ATTACH_ERR(already_attached),
    ATTACH_ERR(not_attached),
    ATTACH_ERR(private_attached),
    ATTACH_ERR(unknown_cntlid),
    ATTACH_ERR(count_zero),
    ATTACH_ERR(duplicate),
    ATTACH_ERR(bad_after_good),
    ATTACH_ERR(detach_bad_after_good),
    ATTACH_ERR(nsid_zero),
    ATTACH_ERR(nsid_broadcast),
    ATTACH_ERR(sel_reserved),
    IO_STATE(optimized),
    IO_STATE(non_optimized),
    IO_STATE(inaccessible),
    IO_STATE(persistent_loss),
    IO_STATE(change),
    MON_ERROR(unknown_id),
    MON_ERROR(nvme_ns_id),
    MON_ERROR(other_device_id),
    MON_ERROR(ctrl_without_ana),
    MON_ERROR(subsys_without_ana),
    MON_ERROR(grpid_zero),
    MON_ERROR(grpid_129),
    MON_ERROR(grpid_129_subsys),
    MON_ERROR(unknown_state),
    MON_ERROR(transition_too_long),
    MON_ERROR(transition_to_change),
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme-subsys", tests, ARRAY_SIZE(tests));
    qnvme_add_data_tests("nvme-subsys", data_tests, ARRAY_SIZE(data_tests));
    return g_test_run();
}
