/*
 * qtests for NVMe subsystems: several controllers of one nvme-subsys,
 * shared and private namespaces, Namespace Attachment, and Asymmetric
 * Namespace Access (NVMe Base 2.0, 2.4, 3.2, 5.22, 8.1), with the monitor
 * commands that change ANA states. The host driver is nvme-qdriver.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme-qdriver.h"

#define ANA_DEVS \
    "-device nvme-subsys,id=s0,ana=true " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=sa,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0,ana.grpid=1 " \
    "-device nvme-ns,drive=d1,nsid=2,subsys=s0,ana.grpid=2"

/* base 5.17.2.2: what a host needs to accept ANA */
static void test_ana_identify(void)
{
    QNvmeCtrl *c = qnvme_boot("%s", ANA_DEVS);
    NvmeIdCtrl id;
    NvmeIdNs ns;

    qnvme_enable(c);
    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(id.cmic & (NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA), ==,
                    NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA);
    g_assert_cmphex(le32_to_cpu(id.oaes) & NVME_OAES_ANA_CHANGE, ==,
                    NVME_OAES_ANA_CHANGE);
    g_assert_cmpuint(id.anatt, >, 0);
    g_assert_cmphex(id.anacap & 0x1f, ==, 0x1f);    /* every state settable */
    g_assert_cmpuint(le32_to_cpu(id.anagrpmax), ==, 32);
    g_assert_cmpuint(le32_to_cpu(id.nanagrpid), ==, 32);
    g_assert_cmpuint(le32_to_cpu(id.mnan), >=, 1);
    g_assert_cmpuint(le32_to_cpu(id.mnan), <=, le32_to_cpu(id.nn));
    qnvme_identify_ns(c, 2, &ns);
    g_assert_cmpuint(le32_to_cpu(ns.anagrpid), ==, 2);
    qnvme_shutdown(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_set_nonfatal_assertions();
    qtest_add_func("nvme-subsys/ana/identify", test_ana_identify);
    return g_test_run();
}
