/*
 * qtests at the model's maximums: 64 controllers in a subsystem, 1,024
 * namespaces, 128 ANA groups, and what a host reads of them (the active
 * namespace list, the ANA log within MDTS, CNTLIDs).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/nvme.h"

#define SC_CTRLS    64
#define SC_NS       1024
#define SC_GRPS     128

/*
 * -device options: @nctrl controllers of s0 (slot.fn from 4.0), @nns shared
 * namespaces on null-co drives, spread round robin over @ngrp ANA groups
 */
static char *sc_devices(int nctrl, int nns, int ngrp)
{
    GString *s = g_string_new("-device nvme-subsys,id=s0,ana=true ");

    for (int i = 0; i < nctrl; i++) {
        g_string_append_printf(s, "-device nvme,id=c%d,serial=sc%d,subsys=s0,"
                               "addr=%x.%d%s ", i, i, 4 + i / 8, i % 8,
                               i % 8 ? "" : ",multifunction=on");
    }
    for (int n = 1; n <= nns; n++) {
        g_string_append_printf(s, "-drive if=none,id=n%d,driver=null-co,"
                               "size=1M -device nvme-ns,drive=n%d,nsid=%d,"
                               "subsys=s0,ana.grpid=%d ", n, n, n,
                               (n - 1) % ngrp + 1);
    }
    return g_string_free(s, false);
}

/* The controller in @slot.@fn of the machine @first booted, enabled */
static QNvmeCtrl *sc_attach(QNvmeCtrl *first, int slot, int fn)
{
    QNvmeCtrl *c = g_new0(QNvmeCtrl, 1);

    c->qs = first->qs;
    c->qts = first->qts;
    c->shares_qs = true;
    c->pdev = qpci_device_find(c->qs->pcibus, QPCI_DEVFN(slot, fn));
    g_assert_nonnull(c->pdev);
    qpci_device_enable(c->pdev);
    c->bar = qpci_iomap(c->pdev, 0, &c->bar_size);
    c->next_cid = 1;
    c->page_size = QNVME_PAGE;
    qnvme_enable(c);
    return c;
}

/*
 * 1,024 shared namespaces in 128 groups: every NSID is active, the ANA log
 * lists 128 groups with 8 NSIDs each (8,208 bytes, well within MDTS), and
 * group 128 answers the monitor.
 */
static void test_max_namespaces_groups(void)
{
    g_autofree char *devs = sc_devices(1, SC_NS, SC_GRPS);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    uint32_t list[NVME_NSID_LIST_MAX];
    g_autofree uint8_t *buf = g_malloc(16 * KiB);
    size_t len = 16 + SC_GRPS * 32 + SC_NS * 4;
    NvmeAnaLogHeader hdr;
    QDict *rsp;
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmpuint(le32_to_cpu(id.nn), ==, SC_NS);
    g_assert_cmpuint(le32_to_cpu(id.anagrpmax), ==, SC_GRPS);
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST }, list));
    for (int i = 0; i < SC_NS; i++) {
        g_assert_cmpuint(le32_to_cpu(list[i]), ==, i + 1);
    }
    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
                        .lid = NVME_LOG_ANA, .rae = true }, buf, 16 * KiB));
    memcpy(&hdr, buf, sizeof(hdr));
    g_assert_cmpuint(le16_to_cpu(hdr.ngrps), ==, SC_GRPS);
    for (size_t at = 16, g = 1; g <= SC_GRPS; g++) {
        NvmeAnaGroupDesc d;

        memcpy(&d, buf + at, sizeof(d));
        g_assert_cmpuint(le32_to_cpu(d.grpid), ==, g);
        g_assert_cmpuint(le32_to_cpu(d.nnsids), ==, SC_NS / SC_GRPS);
        for (unsigned i = 0; i < SC_NS / SC_GRPS; i++) {
            g_assert_cmpuint(ldl_le_p(buf + at + sizeof(d) + 4 * i), ==,
                             g + i * SC_GRPS);
        }
        at += sizeof(d) + 4 * (SC_NS / SC_GRPS);
        g_assert_cmpuint(at, <=, len);
    }
    g_assert_true(qnvme_all_zero(buf + len, 16 * KiB - len));
    rsp = qtest_qmp(c->qts, "{'execute': 'nvme-ana-set-state', 'arguments': "
                    "{'id': 'c0', 'grpid': 128, 'state': 'inaccessible'}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qnvme_assert_status(qnvme_read_blocks(c, 1, SC_NS, 0, 1),
                        QNVME_ST(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE));
    qnvme_assert_ok(qnvme_read_blocks(c, 1, SC_NS - 1, 0, 1));
    qnvme_shutdown(c);
}

/* 64 controllers in one subsystem: CNTLIDs 1-64, each sees the namespaces */
static void test_max_controllers(void)
{
    g_autofree char *devs = sc_devices(SC_CTRLS, 4, 2);
    QNvmeCtrl *c = qnvme_boot_io_with(devs);
    uint16_t ids[NVME_IDENTIFY_SIZE / 2];
    QNvmeCtrl *last = sc_attach(c, 4 + (SC_CTRLS - 1) / 8, (SC_CTRLS - 1) % 8);
    NvmeIdCtrl id;

    qnvme_identify_ctrl(last, &id);
    g_assert_cmpuint(le16_to_cpu(id.cntlid), ==, SC_CTRLS);
    qnvme_create_ioq_pair(last, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_ok(qnvme_read_blocks(last, 1, 4, 0, 1));
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_CTRL_LIST }, ids));
    g_assert_cmpuint(le16_to_cpu(ids[0]), ==, SC_CTRLS);
    for (int i = 1; i <= SC_CTRLS; i++) {
        g_assert_cmpuint(le16_to_cpu(ids[i]), ==, i);
    }
    qnvme_shutdown(last);
    qnvme_shutdown(c);
}

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qtest_add_func("nvme-scale/1024-namespaces-128-groups",
                   test_max_namespaces_groups);
    qtest_add_func("nvme-scale/64-controllers", test_max_controllers);
    return g_test_run();
}
