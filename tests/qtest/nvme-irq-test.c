/*
 * qtests of our NVMe controller's interrupts: the pin (INTx) asserted while
 * a CQ holds unconsumed entries and masked by INTMS, a vector per CQ under
 * MSI-X, CQs created with interrupts disabled; and interrupt coalescing
 * (NVMe Base 2.0, "base", 5.27.1.8 and 5.27.1.9): an I/O completion
 * queue's MSI-X vector signals once the aggregation threshold is reached or
 * the aggregation time has passed; never delayed for the admin queue or a
 * vector with Coalescing Disable set. For coalescing, MSI-X messages are
 * aimed at guest RAM, so each delivery is seen as a write. With shadow
 * doorbells (base 5.8), the CQ's EventIdx asks the host for its head only
 * where the controller needs it: pin-based, and when completions wait for
 * room in a full CQ.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

#define IRQ_DATA    0xc0ffee00u
#define IRQ_MS      (1000 * 1000)       /* a millisecond of virtual time */

/*
 * q35 routes INTA# of a device in slot S to PIRQ (S % 4) + 4 (the ICH9's
 * default routing for slots without a D<n>IR register), which the I/O APIC
 * sees as GSI 16 + PIRQ: QNVME_SLOT, slot 4, is GSI 20.
 */
#define IRQ_INTX_GSI    20

/* ---- INTx and MSI-X ----------------------------------------------------- */

/* Wait until the controller posts the next entry of CQ @cqid; not consumed. */
static void wait_posted(QNvmeCtrl *c, uint16_t cqid, NvmeCqe *cqe)
{
    gint64 deadline = g_get_monotonic_time() + QNVME_TIMEOUT_US;

    while (!qnvme_cq_peek(c, cqid, cqe)) {
        if (g_get_monotonic_time() > deadline) {
            qnvme_fail("nothing posted on CQ %u", cqid);
            return;
        }
        qtest_clock_step(c->qts, QNVME_POLL_STEP_NS);
    }
}

static bool intx(QNvmeCtrl *c)
{
    return qtest_get_irq(c->qts, IRQ_INTX_GSI);
}

/* Submit a read of block 0 on SQ @sqid; wait until its CQE is posted. */
static void read_until_posted(QNvmeCtrl *c, uint16_t sqid)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);
    NvmeCqe cqe;

    qnvme_prp_zbuf(c, &cmd, 512);
    qnvme_submit(c, sqid, &cmd);
    wait_posted(c, c->sq[sqid].cqid, &cqe);
    qnvme_assert_ok(qnvme_cqe_status(&cqe));
}

/* MSI-X: each CQ signals its own vector; masked ones show in the PBA */
static void test_irq_msix(void)
{
    QNvmeCtrl *c = qnvme_boot(NULL);

    qnvme_msix_enable(c);
    qnvme_enable(c);
    qnvme_assert_alive(c);
    g_assert_true(qpci_msix_pending(c->pdev, 0));
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    qnvme_create_ioq_pair(c, 2, QNVME_IOQ_ENTRIES);
    g_assert_false(qpci_msix_pending(c->pdev, 1));
    g_assert_false(qpci_msix_pending(c->pdev, 2));
    read_until_posted(c, 1);
    g_assert_true(qpci_msix_pending(c->pdev, 1));
    g_assert_false(qpci_msix_pending(c->pdev, 2));
    read_until_posted(c, 2);
    g_assert_true(qpci_msix_pending(c->pdev, 2));
    /* with MSI-X enabled the pin stays quiet */
    g_assert_false(intx(c));
    qnvme_shutdown(c);
}

/* Pin-based: asserted while a CQ holds entries the host has not consumed */
static void test_irq_intx(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSqe cmd = { .opcode = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
    NvmeCqe cqe;

    g_assert_false(intx(c));
    cmd.dptr.prp1 = qnvme_zalloc(c, NVME_IDENTIFY_SIZE);
    qnvme_submit(c, 0, &cmd);
    wait_posted(c, 0, &cqe);
    g_assert_true(intx(c));
    qnvme_cq_pop(c, 0, true);
    g_assert_false(intx(c));
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    g_assert_false(intx(c));
    read_until_posted(c, 1);
    g_assert_true(intx(c));
    qnvme_cq_pop(c, 1, true);
    g_assert_false(intx(c));
    qnvme_shutdown(c);
}

/* INTMS masks the pin while an entry is pending, INTMC unmasks (3.1.4.3) */
static void test_irq_intx_mask(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    read_until_posted(c, 1);
    g_assert_true(intx(c));
    qnvme_writel(c, A_NVME_INTMS, 1);
    g_assert_cmphex(qnvme_readl(c, A_NVME_INTMS) & 1, ==, 1);
    g_assert_false(intx(c));
    qnvme_writel(c, A_NVME_INTMC, 1);
    g_assert_cmphex(qnvme_readl(c, A_NVME_INTMS) & 1, ==, 0);
    g_assert_true(intx(c));
    qnvme_cq_pop(c, 1, true);
    g_assert_false(intx(c));
    qnvme_shutdown(c);
}

/* A CQ created with IEN clear never interrupts (base 5.4) */
static void test_irq_disabled_cq(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();

    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .cqid = 1 }));
    read_until_posted(c, 1);
    g_assert_false(intx(c));
    qnvme_shutdown(c);
}

/* ---- shadow doorbells: when the host must ring a CQ head (base 5.8) ---- */

typedef struct EiRig {
    QNvmeCtrl *c;
    uint64_t dbs, eis;          /* shadow doorbells and EventIdx entries */
    unsigned rings;             /* CQ head doorbells the EventIdx asked for */
} EiRig;

/* Shadow doorbells, then I/O CQ 1 (@cq_entries, vector 1) and SQ 1 */
static EiRig ei_boot(bool msix, uint32_t cq_entries)
{
    EiRig r = { .c = qnvme_boot(NULL) };
    NvmeSqe dbbuf = { .opcode = NVME_ADM_DBBUF_CONFIG };

    if (msix) {
        qnvme_msix_enable(r.c);
    }
    qnvme_enable(r.c);
    r.dbs = qnvme_page_zalloc(r.c, QNVME_PAGE);
    r.eis = qnvme_page_zalloc(r.c, QNVME_PAGE);
    dbbuf.dptr.prp1 = r.dbs;
    dbbuf.dptr.prp2 = r.eis;
    qnvme_assert_ok(qnvme_admin(r.c, &dbbuf, NULL));
    r.c->dbbuf_dbs = r.dbs;
    qnvme_assert_ok(qnvme_create_cq(r.c, &(QNvmeCreateQ){
                        .qid = 1, .entries = cq_entries, .vector = 1,
                        .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(r.c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .cqid = 1 }));
    return r;
}

static uint32_t ei_cq_event_idx(EiRig *r)
{
    uint32_t ei;

    qtest_memread(r->c->qts, r->eis + qnvme_cq_db(1) - NVME_REG_SIZE, &ei, 4);
    return le32_to_cpu(ei);
}

/*
 * Consume CQ 1's next entry as Linux does (nvme_dbbuf_update_and_check_event):
 * the new head goes to the shadow doorbell, and to the MMIO doorbell only
 * if the controller's EventIdx lies in [old head, new head).
 */
static void ei_consume(EiRig *r)
{
    uint16_t old = r->c->cq[1].ptr, new;
    uint32_t le, ei;

    qnvme_cq_pop(r->c, 1, false);
    new = r->c->cq[1].ptr;
    le = cpu_to_le32(new);
    qtest_memwrite(r->c->qts, r->dbs + qnvme_cq_db(1) - NVME_REG_SIZE, &le, 4);
    ei = ei_cq_event_idx(r);
    if ((uint16_t)(new - ei - 1) < (uint16_t)(new - old)) {
        qnvme_writel(r->c, qnvme_cq_db(1), new);
        r->rings++;
    }
}

static void ei_submit_read(EiRig *r, uint64_t slba)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, slba, 1);

    qnvme_prp_zbuf(r->c, &cmd, 512);
    qnvme_submit(r->c, 1, &cmd);
}

/* Wait for CQ 1's next entry, check it succeeded, consume it */
static void ei_complete_one(EiRig *r)
{
    NvmeCqe cqe;

    wait_posted(r->c, 1, &cqe);
    qnvme_assert_ok(qnvme_cqe_status(&cqe));
    ei_consume(r);
}

/*
 * Under MSI-X the controller needs a CQ head only when completions wait
 * for room: three laps of a 16-entry CQ without one head doorbell.
 */
static void test_cq_event_idx_msix(void)
{
    EiRig r = ei_boot(true, QNVME_IOQ_ENTRIES);

    for (int i = 0; i < 3 * QNVME_IOQ_ENTRIES; i++) {
        ei_submit_read(&r, i);
        ei_complete_one(&r);
    }
    g_assert_cmpuint(r.rings, ==, 0);
    qnvme_assert_alive(r.c);
    qnvme_shutdown(r.c);
}

/*
 * A full CQ (two entries: one usable) with two completions waiting: the
 * EventIdx asks for the head (it becomes the head the controller knows,
 * 0), so the host rings as it consumes and each waiting one is posted; the
 * last consumption needs no doorbell. Two doorbells, or one: the third
 * read may complete only while the host consumes the first entry, and
 * then the controller, posting it, finds the new head in the shadow
 * doorbell without being asked (the old EventIdx, always the head, cost
 * three).
 */
static void test_cq_event_idx_full(void)
{
    EiRig r = ei_boot(true, 2);
    gint64 deadline = g_get_monotonic_time() + QNVME_TIMEOUT_US;

    for (int i = 0; i < 3; i++) {
        ei_submit_read(&r, i);
    }
    while (ei_cq_event_idx(&r) != 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        qtest_clock_step(r.c->qts, QNVME_POLL_STEP_NS);
    }
    for (int i = 0; i < 3; i++) {
        ei_complete_one(&r);
    }
    g_assert_cmpuint(r.rings, >=, 1);
    g_assert_cmpuint(r.rings, <=, 2);
    qnvme_assert_alive(r.c);
    qnvme_shutdown(r.c);
}

/*
 * Pin-based, the controller needs every head to drop the pin: the host is
 * asked to ring after each consumption, and the pin drops.
 */
static void test_cq_event_idx_intx(void)
{
    EiRig r = ei_boot(false, QNVME_IOQ_ENTRIES);

    for (int i = 0; i < QNVME_IOQ_ENTRIES + 2; i++) {
        ei_submit_read(&r, i);
        ei_complete_one(&r);
        g_assert_false(intx(r.c));
    }
    g_assert_cmpuint(r.rings, ==, QNVME_IOQ_ENTRIES + 2);
    qnvme_shutdown(r.c);
}

/* ---- interrupt coalescing ----------------------------------------------- */

typedef struct IrqRig {
    QNvmeCtrl *c;
    uint64_t msg[2];            /* where vectors 0 and 1 write their message */
} IrqRig;

static void irq_aim(IrqRig *r, unsigned vector)
{
    QNvmeCtrl *c = r->c;
    uint64_t entry = c->pdev->msix_table_off + vector * PCI_MSIX_ENTRY_SIZE;

    r->msg[vector] = qnvme_zalloc(c, 4);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)r->msg[vector]);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, r->msg[vector] >> 32);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_DATA, IRQ_DATA + vector);
    qpci_io_writel(c->pdev, c->pdev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

/* Was vector @v's message delivered since the last call? (clears it) */
static bool irq_fired(IrqRig *r, unsigned v)
{
    uint32_t val = qtest_readl(r->c->qts, r->msg[v]);

    qtest_writel(r->c->qts, r->msg[v], 0);
    return val == IRQ_DATA + v;
}

static IrqRig irq_boot(void)
{
    IrqRig r;

    r.c = qnvme_boot(NULL);
    qnvme_msix_enable(r.c);
    qnvme_enable(r.c);
    irq_aim(&r, 0);
    irq_aim(&r, 1);
    qnvme_assert_ok(qnvme_create_cq(r.c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .vector = 1,
                        .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(r.c, &(QNvmeCreateQ){
                        .qid = 1, .entries = QNVME_IOQ_ENTRIES, .cqid = 1 }));
    irq_fired(&r, 0);
    irq_fired(&r, 1);
    return r;
}

/*
 * Submit @n reads and wait, without letting virtual time pass, until all
 * their completions are in the CQ; then consume them.
 */
static void irq_reads(IrqRig *r, int n)
{
    QNvmeCtrl *c = r->c;
    gint64 deadline = g_get_monotonic_time() + QNVME_TIMEOUT_US;
    NvmeCqe cqe;
    int seen = 0;

    for (int i = 0; i < n; i++) {
        NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, i, 1);

        qnvme_set_prps(c, &cmd, qnvme_alloc(c, 512), 512);
        qnvme_submit(c, 1, &cmd);
    }
    while (seen < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        if (qnvme_cq_peek(c, 1, &cqe)) {
            qnvme_assert_ok(qnvme_cqe_status(&cqe));
            qnvme_cq_pop(c, 1, false);
            seen++;
        }
    }
    qnvme_ring(c, qnvme_cq_db(1), c->cq[1].ptr);
}

/* THR 3 (four entries), TIME 50 (5 ms) on the I/O CQ's vector */
static void irq_coalesce(IrqRig *r)
{
    qnvme_set_feature(r->c, NVME_FEAT_IRQ_COALESCING, 50 << 8 | 3);
}

/* Two completions wait for the time; four signal at once */
static void test_coalesce_threshold_and_time(void)
{
    IrqRig r = irq_boot();

    irq_coalesce(&r);
    irq_fired(&r, 0);
    irq_reads(&r, 2);
    g_assert_false(irq_fired(&r, 1));
    qtest_clock_step(r.c->qts, 4 * IRQ_MS);
    g_assert_false(irq_fired(&r, 1));
    qtest_clock_step(r.c->qts, 2 * IRQ_MS);
    g_assert_true(irq_fired(&r, 1));
    irq_reads(&r, 4);
    g_assert_true(irq_fired(&r, 1));
    qnvme_shutdown(r.c);
}

/* Without coalescing (the default, and TIME 0) every completion signals */
static void test_coalesce_off(void)
{
    IrqRig r = irq_boot();

    irq_reads(&r, 1);
    g_assert_true(irq_fired(&r, 1));
    qnvme_set_feature(r.c, NVME_FEAT_IRQ_COALESCING, 0 << 8 | 3);
    irq_fired(&r, 0);
    irq_reads(&r, 1);
    g_assert_true(irq_fired(&r, 1));
    qnvme_shutdown(r.c);
}

/* Coalescing Disable on vector 1 (feature 09h): no delay there */
static void test_coalesce_disabled_vector(void)
{
    IrqRig r = irq_boot();

    irq_coalesce(&r);
    qnvme_set_feature(r.c, NVME_FEAT_IRQ_CONFIG,
                      1 | R_NVME_IRQ_CFG_DW11_CD_MASK);
    irq_fired(&r, 0);
    irq_reads(&r, 1);
    g_assert_true(irq_fired(&r, 1));
    qnvme_shutdown(r.c);
}

/* The admin CQ is never coalesced */
static void test_coalesce_not_admin(void)
{
    IrqRig r = irq_boot();
    NvmeIdCtrl id;

    irq_coalesce(&r);
    irq_fired(&r, 0);
    qnvme_identify_ctrl(r.c, &id);
    g_assert_true(irq_fired(&r, 0));
    qnvme_shutdown(r.c);
}

/* A reset while a coalesced interrupt waits: nothing fires afterwards */
static void test_coalesce_reset(void)
{
    IrqRig r = irq_boot();

    irq_coalesce(&r);
    irq_reads(&r, 1);
    qnvme_disable(r.c);
    qtest_clock_step(r.c->qts, 10 * IRQ_MS);
    g_assert_false(irq_fired(&r, 1));
    qnvme_enable(r.c);
    qnvme_assert_alive(r.c);
    qnvme_shutdown(r.c);
}

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qtest_add_func("nvme/irq/msix", test_irq_msix);
    qtest_add_func("nvme/irq/intx", test_irq_intx);
    qtest_add_func("nvme/irq/intx-mask", test_irq_intx_mask);
    qtest_add_func("nvme/irq/disabled-cq", test_irq_disabled_cq);
    qtest_add_func("nvme/irq/cq-event-idx-msix", test_cq_event_idx_msix);
    qtest_add_func("nvme/irq/cq-event-idx-full", test_cq_event_idx_full);
    qtest_add_func("nvme/irq/cq-event-idx-intx", test_cq_event_idx_intx);
    qtest_add_func("nvme-irq/coalesce/threshold-and-time",
                   test_coalesce_threshold_and_time);
    qtest_add_func("nvme-irq/coalesce/off", test_coalesce_off);
    qtest_add_func("nvme-irq/coalesce/disabled-vector",
                   test_coalesce_disabled_vector);
    qtest_add_func("nvme-irq/coalesce/not-admin", test_coalesce_not_admin);
    qtest_add_func("nvme-irq/coalesce/reset", test_coalesce_reset);
    return g_test_run();
}
