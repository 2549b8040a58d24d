/*
 * qtests of our NVMe controller's registers and state: reset values and
 * read-only registers, enabling, disabling, reset and shutdown, and admin
 * queue setups that end in Controller Fatal Status (NVM Express Base
 * Specification 2.0, "base", 3.1.4 and 3.5-3.7). Each test boots a q35
 * machine and drives the controller as a host driver would (libqos/nvme.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

/* Status values as the CQE carries them (without the phase tag) */
#define ST_CMD(sc)          QNVME_ST(NVME_SCT_CMD_SPECIFIC, sc)

/* ---- registers and controller state (base 3.1.4, 3.5-3.7) --------------- */

static void test_regs_reset_values(void)
{
    QNvmeCtrl *c = qnvme_boot(NULL);
    uint64_t cap = qnvme_readq(c, A_NVME_CAP);
    uint32_t css = FIELD_EX64(cap, NVME_CAP, CSS);

    /* class code 010802h: mass storage, non-volatile memory, NVM Express */
    g_assert_cmphex(qpci_config_readw(c->pdev, PCI_CLASS_DEVICE), ==, 0x0108);
    g_assert_cmphex(qpci_config_readb(c->pdev, PCI_CLASS_PROG), ==, 0x02);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, MQES), ==, 2047);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, CQR), ==, 1);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, TO), >, 0);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, DSTRD), ==, 0);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, NSSRS), ==, 1);
    g_assert_true(css & NVME_CAP_CSS_NVM);
    g_assert_true(css & NVME_CAP_CSS_IOCS);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, MPSMIN), ==, 0);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, MPSMAX), >=,
                     FIELD_EX64(cap, NVME_CAP, MPSMIN));
    g_assert_cmphex(qnvme_readl(c, A_NVME_VS), ==, NVME_VERSION(2, 0, 0));
    g_assert_cmphex(qnvme_readl(c, A_NVME_CC), ==, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_AQA), ==, 0);
    g_assert_cmphex(qnvme_readq(c, A_NVME_ASQ), ==, 0);
    g_assert_cmphex(qnvme_readq(c, A_NVME_ACQ), ==, 0);
    g_assert_cmphex(qnvme_readl(c, A_NVME_INTMS), ==, 0);
    qnvme_shutdown(c);
}

static void test_regs_read_only(void)
{
    QNvmeCtrl *c = qnvme_boot(NULL);
    uint64_t cap = qnvme_readq(c, A_NVME_CAP);

    qnvme_writeq(c, A_NVME_CAP, ~cap);
    qnvme_writel(c, A_NVME_VS, 0x12345678);
    qnvme_writel(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK | R_NVME_CSTS_CFS_MASK);
    g_assert_cmphex(qnvme_readq(c, A_NVME_CAP), ==, cap);
    g_assert_cmphex(qnvme_readl(c, A_NVME_VS), ==, NVME_VERSION(2, 0, 0));
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, 0);
    qnvme_shutdown(c);
}

/* mqes=: CAP.MQES follows, and queues up to MQES + 1 entries are accepted */
static void test_regs_mqes_property(void)
{
    QNvmeCtrl *c = qnvme_boot("-device nvme,%s,serial=m,drive=d0,mqes=63",
                              QNVME_ADDR);

    g_assert_cmpuint(FIELD_EX64(qnvme_readq(c, A_NVME_CAP), NVME_CAP, MQES),
                     ==, 63);
    qnvme_enable(c);
    qnvme_assert_status(qnvme_create_cq(c, &(QNvmeCreateQ){
                            .qid = 1, .entries = 65, .ien = true }),
                        ST_CMD(NVME_SC_INVALID_QSIZE) | NVME_DNR);
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = 64, .ien = true }));
    qnvme_shutdown(c);
}

static void test_ctrl_enable(void)
{
    QNvmeCtrl *c = qnvme_boot(NULL);
    uint32_t cc;

    qnvme_enable(c);
    cc = qnvme_readl(c, A_NVME_CC);
    g_assert_cmpuint(FIELD_EX32(cc, NVME_CC, EN), ==, 1);
    g_assert_cmpuint(FIELD_EX32(cc, NVME_CC, IOSQES), ==, 6);
    g_assert_cmpuint(FIELD_EX32(cc, NVME_CC, IOCQES), ==, 4);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* A disabled controller fetches no command */
static void test_ctrl_disable(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSqe cmd = { .opcode = NVME_ADM_IDENTIFY, .cid = 77,
                    .cdw10 = NVME_CNS_CTRL };
    uint8_t data[NVME_IDENTIFY_SIZE];
    size_t changed = 0;
    NvmeSqe le;

    qnvme_disable(c);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS), ==, 0);
    cmd.dptr.prp1 = qnvme_alloc(c, sizeof(data));
    qtest_memset(c->qts, cmd.dptr.prp1, QNVME_FILL, sizeof(data));
    qnvme_sqe_to_le(&le, &cmd);
    qtest_memwrite(c->qts, c->sq[0].addr, &le, sizeof(le));
    qnvme_writel(c, qnvme_sq_db(0), 1);
    c->cq[0].live = true;       /* to peek at the ring, which must stay empty */
    g_assert_true(qnvme_cq_stays_empty(c, 0, QNVME_SHORT_US));
    /* ... and the Identify data buffer untouched */
    qtest_bufread(c->qts, cmd.dptr.prp1, data, sizeof(data));
    for (size_t i = 0; i < sizeof(data); i++) {
        changed += data[i] != QNVME_FILL;
    }
    g_assert_cmpuint(changed, ==, 0);
    qnvme_enable(c);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/*
 * A reset (CC.EN 1 -> 0) deletes the I/O queues and ends outstanding
 * commands, AERs included, without completions (base 3.7.2).
 */
static void test_ctrl_reset_frees_queues(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    const size_t ring_len = QNVME_AQ_ENTRIES * sizeof(NvmeCqe);
    g_autofree uint8_t *before = g_malloc(ring_len);
    g_autofree uint8_t *after = g_malloc(ring_len);

    qnvme_assert_pending(c, 0, qnvme_aer_submit(c));
    qtest_memread(c->qts, c->cq[0].addr, before, ring_len);
    qnvme_disable(c);
    /*
     * The old admin CQ as the reset left it (enabling zeroes it): no entry
     * at its head, none anywhere else, none later
     */
    g_assert_true(qnvme_cq_stays_empty(c, 0, QNVME_SHORT_US));
    qtest_memread(c->qts, c->cq[0].addr, after, ring_len);
    g_assert_true(memcmp(before, after, ring_len) == 0);
    qnvme_enable(c);
    g_assert_true(qnvme_cq_stays_empty(c, 0, QNVME_SHORT_US));
    /* queue 1 is gone: it can be created again, and its old SQ cannot */
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .cqid = 1 }));
    qnvme_write_pattern(c, 1, 1, 0, 8, 1);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 1);
    qnvme_shutdown(c);
}

static void shutdown_case(uint32_t shn)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint32_t cc = qnvme_readl(c, A_NVME_CC);

    qnvme_write_pattern(c, 1, 1, 0, 8, 2);
    qnvme_writel(c, A_NVME_CC, FIELD_DP32(cc, NVME_CC, SHN, shn));
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_SHST_MASK,
                            NVME_SHST_COMPLETE << R_NVME_CSTS_SHST_SHIFT));
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_CFS_MASK, ==, 0);
    /* a reset after the shutdown makes the controller usable again */
    qnvme_disable(c);
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_SHST_MASK,
                    ==, 0);
    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 2);
    qnvme_shutdown(c);
}

static void test_ctrl_shutdown_normal(void)
{
    shutdown_case(NVME_SHN_NORMAL);
}

static void test_ctrl_shutdown_abrupt(void)
{
    shutdown_case(NVME_SHN_ABRUPT);
}

/*
 * Enabling with an admin queue setup the controller cannot use: CSTS.CFS,
 * never RDY; CC.EN = 0 clears it and a good setup then works (base 3.5.1,
 * 3.1.4.6).
 */
typedef enum CfsCase {
    CFS_AQA_ONE_ENTRY,      /* AQA sizes 0: one entry, the minimum is two */
    CFS_ASQ_ZERO,
    CFS_ACQ_ZERO,
    CFS_ASQ_UNALIGNED,
    CFS_ACQ_NOT_RAM,
    CFS_ASQ_MMIO,
    CFS_MPS_UNSUPPORTED,
    CFS_CSS_RESERVED,
} CfsCase;

static void test_ctrl_cfs(const void *data)
{
    CfsCase kind = GPOINTER_TO_INT(data);
    QNvmeCtrl *c = qnvme_boot(NULL);
    uint64_t cap = qnvme_readq(c, A_NVME_CAP);
    uint32_t cc = QNVME_CC_DEFAULT;

    qnvme_setup_admin_queues(c);
    switch (kind) {
    case CFS_AQA_ONE_ENTRY:
        qnvme_writel(c, A_NVME_AQA, 0);
        break;
    case CFS_ASQ_ZERO:
        qnvme_writeq(c, A_NVME_ASQ, 0);
        break;
    case CFS_ACQ_ZERO:
        qnvme_writeq(c, A_NVME_ACQ, 0);
        break;
    case CFS_ASQ_UNALIGNED:
        qnvme_writeq(c, A_NVME_ASQ, c->sq[0].addr + 64);
        break;
    case CFS_ACQ_NOT_RAM:
        qnvme_writeq(c, A_NVME_ACQ, QNVME_NOT_RAM);
        break;
    case CFS_ASQ_MMIO:
        qnvme_writeq(c, A_NVME_ASQ, qnvme_bar_addr(c));
        break;
    case CFS_MPS_UNSUPPORTED:
        cc = FIELD_DP32(cc, NVME_CC, MPS,
                        FIELD_EX64(cap, NVME_CAP, MPSMAX) + 1);
        break;
    case CFS_CSS_RESERVED:
        cc = FIELD_DP32(cc, NVME_CC, CSS, 1);
        break;
    }
    qnvme_writel(c, A_NVME_CC, cc);
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_CFS_MASK,
                            R_NVME_CSTS_CFS_MASK));
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_RDY_MASK, ==, 0);
    qnvme_writel(c, A_NVME_CC, 0);
    g_assert_true(qnvme_wait_reg(c, A_NVME_CSTS,
                            R_NVME_CSTS_CFS_MASK | R_NVME_CSTS_RDY_MASK, 0));
    qnvme_enable(c);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- the list of tests -------------------------------------------------- */

static const QNvmeTest tests[] = {
    { "regs/reset-values", test_regs_reset_values },
    { "regs/read-only", test_regs_read_only },
    { "regs/mqes-property", test_regs_mqes_property },
    { "ctrl/enable", test_ctrl_enable },
    { "ctrl/disable", test_ctrl_disable },
    { "ctrl/reset-frees-queues", test_ctrl_reset_frees_queues },
    { "ctrl/shutdown-normal", test_ctrl_shutdown_normal },
    { "ctrl/shutdown-abrupt", test_ctrl_shutdown_abrupt },
};

#define CFS(name, kind) \
    { "ctrl/cfs/" name, test_ctrl_cfs, GINT_TO_POINTER(kind) }

static const QNvmeDataTest data_tests[] = {
    CFS("aqa-one-entry", CFS_AQA_ONE_ENTRY),
    CFS("asq-zero", CFS_ASQ_ZERO),
    CFS("acq-zero", CFS_ACQ_ZERO),
    CFS("asq-unaligned", CFS_ASQ_UNALIGNED),
    CFS("acq-not-ram", CFS_ACQ_NOT_RAM),
    CFS("asq-mmio", CFS_ASQ_MMIO),
    CFS("mps-unsupported", CFS_MPS_UNSUPPORTED),
    CFS("css-reserved", CFS_CSS_RESERVED),
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme", tests, ARRAY_SIZE(tests));
    qnvme_add_data_tests("nvme", data_tests, ARRAY_SIZE(data_tests));
    return g_test_run();
}
