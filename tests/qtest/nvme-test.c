/*
 * qtests for our NVMe controller: each test boots a q35 machine, drives the
 * controller as a host driver would (libqos/nvme.c) and checks one
 * behaviour against the NVM Express Base Specification 2.0 ("base") and the
 * NVM Command Set Specification 1.0 ("nvm").
 *
 * Map: registers and controller state, Identify, log pages, features,
 * asynchronous events, data pointers, NVM commands, interrupts, hostile
 * input, and main() with the list of tests. Subsystems, Namespace
 * Attachment and ANA are in nvme-subsys-test.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

#define QNVME_NLBAS0        (QNVME_IMG0_SIZE / 512)

/* Status values as the CQE carries them (without the phase tag) */
#define ST_INVALID_FIELD    QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_INVALID_FIELD)
#define ST_INVALID_OPCODE   QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_INVALID_OPCODE)
#define ST_INVALID_NSID     QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NSID)
#define ST_DATA_XFER        QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_DATA_TRANSFER_ERROR)
#define ST_LBA_RANGE        QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_LBA_OUT_OF_RANGE)
#define ST_CMD(sc)          QNVME_ST(NVME_SCT_CMD_SPECIFIC, sc)

/* ---- helpers ------------------------------------------------------------ */

static uint16_t io_exec(QNvmeCtrl *c, NvmeSqe *cmd)
{
    return qnvme_exec(c, 1, cmd, NULL);
}

/* An I/O command with @len bytes of guest buffer behind PRPs; returns it. */
static uint64_t io_prep_buf(QNvmeCtrl *c, NvmeSqe *cmd, size_t len)
{
    uint64_t buf = qnvme_zalloc(c, len);

    qnvme_set_prps(c, cmd, buf, len);
    return buf;
}

static void assert_zeroes(QNvmeCtrl *c, uint64_t slba, uint32_t nlb)
{
    size_t len = nlb * 512;
    g_autofree uint8_t *got = g_malloc(len);

    qnvme_assert_ok(qnvme_read(c, 1, 1, slba, nlb, got, len));
    g_assert_true(qnvme_all_zero(got, len));
}

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
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, NSSRS), ==, 0);
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

/* ---- Identify (base 5.17) ----------------------------------------------- */

static void assert_padded(const char *field, size_t size, const char *want)
{
    size_t n = strlen(want);

    g_assert_cmpuint(n, <=, size);
    g_assert_true(memcmp(field, want, n) == 0);
    for (; n < size; n++) {
        g_assert_cmpint(field[n], ==, ' ');
    }
}

static void test_identify_ctrl(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeIdCtrl id;
    uint16_t oncs;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(le16_to_cpu(id.vid), ==, 0x1b36);
    g_assert_cmphex(le16_to_cpu(id.ssvid), ==,
                    qpci_config_readw(c->pdev, PCI_SUBSYSTEM_VENDOR_ID));
    assert_padded(id.sn, sizeof(id.sn), QNVME_SERIAL);
    assert_padded(id.mn, sizeof(id.mn), "QEMU NVMe Ctrl");
    g_assert_cmpuint(id.mdts, ==, 7);
    g_assert_cmpuint(le16_to_cpu(id.cntlid), ==, 1);
    g_assert_cmphex(le32_to_cpu(id.ver), ==, qnvme_readl(c, A_NVME_VS));
    /* a subsystem of its own: one controller only (CMIC bit 1 clear) */
    g_assert_cmphex(id.cmic & NVME_CMIC_MULTI_CTRL, ==, 0);
    g_assert_cmphex(id.sqes, ==, 0x66);
    g_assert_cmphex(id.cqes, ==, 0x44);
    g_assert_cmpuint(le32_to_cpu(id.nn), ==, 1024);
    oncs = le16_to_cpu(id.oncs);
    g_assert_cmphex(oncs & (NVME_ONCS_COMPARE | NVME_ONCS_DSM |
                            NVME_ONCS_WRITE_ZEROES | NVME_ONCS_TIMESTAMP |
                            NVME_ONCS_VERIFY), ==,
                    NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
                    NVME_ONCS_TIMESTAMP | NVME_ONCS_VERIFY);
    g_assert_cmphex(oncs & NVME_ONCS_FEAT_SAVE, ==, 0);
    g_assert_cmphex(le32_to_cpu(id.sgls) & 3, ==, NVME_SGLS_SUPPORTED);
    g_assert_cmpstr(id.subnqn, ==, "nqn.2019-08.org.qemu:" QNVME_SERIAL);
    g_assert_cmpuint(id.aerl, ==, 3);
    g_assert_cmpuint(id.cntrltype, ==, NVME_CNTRLTYPE_IO);
    qnvme_shutdown(c);
}

/* model=, mdts= and sgl=off show in Identify Controller */
static void test_identify_ctrl_properties(void)
{
    QNvmeCtrl *c = qnvme_boot("-device nvme,%s,serial=props,model=Test-Model,"
                              "mdts=3,sgl=off,drive=d0", QNVME_ADDR);
    NvmeIdCtrl id;

    qnvme_enable(c);
    qnvme_identify_ctrl(c, &id);
    assert_padded(id.sn, sizeof(id.sn), "props");
    assert_padded(id.mn, sizeof(id.mn), "Test-Model");
    g_assert_cmpuint(id.mdts, ==, 3);
    g_assert_cmphex(le32_to_cpu(id.sgls), ==, 0);
    qnvme_shutdown(c);
}

static void assert_lbafs(const NvmeIdNs *id)
{
    g_assert_cmpuint(id->nlbaf, ==, 1);
    g_assert_cmpuint(id->lbaf[0].lbads, ==, 9);
    g_assert_cmpuint(id->lbaf[1].lbads, ==, 12);
    g_assert_cmpuint(le16_to_cpu(id->lbaf[0].ms), ==, 0);
    g_assert_cmpuint(le16_to_cpu(id->lbaf[1].ms), ==, 0);
}

static void test_identify_ns(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeIdNs id;

    qnvme_identify_ns(c, 1, &id);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_NLBAS0);
    g_assert_cmpuint(le64_to_cpu(id.ncap), ==, QNVME_NLBAS0);
    g_assert_cmpuint(le64_to_cpu(id.nuse), <=, QNVME_NLBAS0);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 0);
    assert_lbafs(&id);
    g_assert_cmpuint(id.nmic & NVME_NMIC_SHARED, ==, 0);
    g_assert_cmpuint(id.dlfeat & 7, ==, NVME_DLFEAT_READ_ZEROES);
    qnvme_shutdown(c);
}

static void test_identify_ns_4k(void)
{
    QNvmeCtrl *c = qnvme_boot("-device nvme,id=c0,%s,serial=x "
                              "-device nvme-ns,drive=d1,nsid=1,bus=c0,"
                              "logical_block_size=4096,"
                              "physical_block_size=4096", QNVME_ADDR);
    NvmeIdNs id;

    qnvme_enable(c);
    qnvme_identify_ns(c, 1, &id);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 1);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_IMG1_SIZE / 4096);
    assert_lbafs(&id);
    qnvme_shutdown(c);
}

/* An inactive NSID reads as zeroes; NSID 0 names no namespace (5.17.2.1) */
static void test_identify_ns_inactive(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeIdNs *id = g_new(NvmeIdNs, 1);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_NS, .nsid = 2 }, id));
    g_assert_true(qnvme_all_zero(id, sizeof(*id)));
    qnvme_assert_status(qnvme_identify(c, &(QNvmeIdentify){
                            .cns = NVME_CNS_NS }, id), ST_INVALID_NSID);
    qnvme_shutdown(c);
}

#define TWO_NS_DEVS \
    "-device nvme,id=c0," QNVME_ADDR ",serial=two " \
    "-device nvme-ns,drive=d0,nsid=1,bus=c0 " \
    "-device nvme-ns,drive=d1,nsid=2,bus=c0"

static void test_identify_active_ns_list(void)
{
    QNvmeCtrl *c = qnvme_boot("%s", TWO_NS_DEVS);
    uint32_t list[NVME_NSID_LIST_MAX];

    qnvme_enable(c);
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST }, list));
    g_assert_cmpuint(le32_to_cpu(list[0]), ==, 1);
    g_assert_cmpuint(le32_to_cpu(list[1]), ==, 2);
    g_assert_true(qnvme_all_zero(&list[2], sizeof(list) - 8));
    /* the list holds the NSIDs greater than the one given */
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST, .nsid = 1 }, list));
    g_assert_cmpuint(le32_to_cpu(list[0]), ==, 2);
    g_assert_true(qnvme_all_zero(&list[1], sizeof(list) - 4));
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_ACTIVE_NS_LIST, .nsid = 2 }, list));
    g_assert_true(qnvme_all_zero(list, sizeof(list)));
    /* FFFFFFFEh and FFFFFFFFh leave nothing to list (base 5.17.2.3) */
    qnvme_assert_status(qnvme_identify(c, &(QNvmeIdentify){
                            .cns = NVME_CNS_ACTIVE_NS_LIST,
                            .nsid = NVME_NSID_BROADCAST }, list),
                        ST_INVALID_NSID);
    qnvme_shutdown(c);
}

/* Find descriptor @nidt in a Namespace Identification Descriptor list. */
static const uint8_t *find_ns_desc(const uint8_t *list, uint8_t nidt,
                                   uint8_t nidl)
{
    size_t off = 0;

    while (off + sizeof(NvmeNsIdDesc) <= NVME_IDENTIFY_SIZE && list[off]) {
        const NvmeNsIdDesc *d = (const NvmeNsIdDesc *)&list[off];

        if (d->nidt == nidt) {
            g_assert_cmpuint(d->nidl, ==, nidl);
            return &list[off + sizeof(*d)];
        }
        off += sizeof(*d) + d->nidl;
    }
    return NULL;
}

static void test_identify_ns_descriptors(void)
{
    static const uint8_t eui64[8] = { 0x00, 0x11, 0x22, 0x33,
                                      0x44, 0x55, 0x66, 0x77 };
    static const uint8_t nguid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                       0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                       0xcc, 0xdd, 0xee, 0xff };
    static const uint8_t uuid[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                                      0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
                                      0x89, 0xab, 0xcd, 0xef };
    QNvmeCtrl *c = qnvme_boot(
        "-device nvme,id=c0,%s,serial=x -device nvme-ns,drive=d0,nsid=1,"
        "bus=c0,eui64=0x0011223344556677,"
        "nguid=00112233-4455-6677-8899-aabbccddeeff,"
        "uuid=01234567-89ab-cdef-0123-456789abcdef", QNVME_ADDR);
    g_autofree uint8_t *list = g_malloc(NVME_IDENTIFY_SIZE);
    const uint8_t *v;
    NvmeIdNs id;

    qnvme_enable(c);
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_NS_DESC_LIST, .nsid = 1 }, list));
    v = find_ns_desc(list, NVME_NIDT_EUI64, NVME_NIDL_EUI64);
    g_assert_true(v && !memcmp(v, eui64, sizeof(eui64)));
    v = find_ns_desc(list, NVME_NIDT_NGUID, NVME_NIDL_NGUID);
    g_assert_true(v && !memcmp(v, nguid, sizeof(nguid)));
    v = find_ns_desc(list, NVME_NIDT_UUID, NVME_NIDL_UUID);
    g_assert_true(v && !memcmp(v, uuid, sizeof(uuid)));
    v = find_ns_desc(list, NVME_NIDT_CSI, NVME_NIDL_CSI);
    g_assert_true(v && *v == NVME_CSI_NVM);
    /* Identify Namespace carries the same EUI64 and NGUID */
    qnvme_identify_ns(c, 1, &id);
    g_assert_true(!memcmp(id.eui64, eui64, sizeof(eui64)));
    g_assert_true(!memcmp(id.nguid, nguid, sizeof(nguid)));
    qnvme_shutdown(c);
}

/* CNS 06h: NVM command set Identify Controller, only for CSI 00h */
static void test_identify_cns06_nvm_ctrl(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeIdCtrlNvm *id = g_new(NvmeIdCtrlNvm, 1);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_CSI_CTRL, .csi = NVME_CSI_NVM }, id));
    g_assert_true(qnvme_all_zero(id->rsvd16, sizeof(id->rsvd16)));
    qnvme_assert_status(qnvme_identify(c, &(QNvmeIdentify){
                            .cns = NVME_CNS_CSI_CTRL, .csi = 0x02 }, id),
                        ST_INVALID_FIELD);
    qnvme_shutdown(c);
}

/* CNS 08h: I/O command set independent Identify Namespace */
static void test_identify_cns08_indep_ns(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeIdNsIndep *id = g_new(NvmeIdNsIndep, 1);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_CS_INDEP_NS, .nsid = 1 }, id));
    g_assert_cmphex(id->nstat & NVME_NSTAT_READY, ==, NVME_NSTAT_READY);
    g_assert_cmphex(id->nmic & NVME_NMIC_SHARED, ==, 0);
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_CS_INDEP_NS, .nsid = 2 }, id));
    g_assert_true(qnvme_all_zero(id, sizeof(*id)));
    qnvme_shutdown(c);
}

/* CNS 1Ch: the only command set combination is NVM alone */
static void test_identify_cns1c_io_cmd_sets(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeIdIoCmdSets *sets = g_new(NvmeIdIoCmdSets, 1);

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_IO_CMD_SET }, sets));
    g_assert_cmphex(le64_to_cpu(sets->iocsc[0]), ==, NVME_IOCS_NVM);
    g_assert_true(qnvme_all_zero(&sets->iocsc[1], sizeof(sets->iocsc) - 8));
    qnvme_shutdown(c);
}

static void test_identify_reserved_cns(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree uint8_t *buf = g_malloc(NVME_IDENTIFY_SIZE);

    qnvme_assert_status(qnvme_identify(c, &(QNvmeIdentify){
                            .cns = 0x0f }, buf), ST_INVALID_FIELD);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- log pages (base 5.16) ---------------------------------------------- */

static void test_log_supported_pages(void)
{
    static const uint8_t required[] = {
        NVME_LOG_SUPPORTED, NVME_LOG_ERROR, NVME_LOG_SMART, NVME_LOG_FW_SLOT,
        NVME_LOG_CMD_EFFECTS,
    };
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeSupportedLogs *log = g_new(NvmeSupportedLogs, 1);
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    qnvme_read_log(c, NVME_LOG_SUPPORTED, log, sizeof(*log));
    for (int i = 0; i < ARRAY_SIZE(required); i++) {
        g_assert_cmphex(le32_to_cpu(log->lids[required[i]]) &
                        NVME_LIDS_SUPPORTED, ==, NVME_LIDS_SUPPORTED);
    }
    /* the ANA log exactly when ANA is reported (CMIC bit 3) */
    g_assert_cmphex(le32_to_cpu(log->lids[NVME_LOG_ANA]) & NVME_LIDS_SUPPORTED,
                    ==, id.cmic & NVME_CMIC_ANA ? NVME_LIDS_SUPPORTED : 0);
    qnvme_shutdown(c);
}

/* Every page listed as supported can be read, every other one cannot */
static void test_log_supported_match_get_log(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeSupportedLogs *log = g_new(NvmeSupportedLogs, 1);
    uint32_t dw;

    qnvme_read_log(c, NVME_LOG_SUPPORTED, log, sizeof(*log));
    for (int lid = 0; lid < 256; lid++) {
        uint16_t st = qnvme_get_log(c, &(QNvmeGetLog){
                          .lid = lid, .rae = true }, &dw, 4);
        uint16_t want = le32_to_cpu(log->lids[lid]) & NVME_LIDS_SUPPORTED ?
                        NVME_SC_SUCCESS : ST_CMD(NVME_SC_INVALID_LOG_PAGE);

        if ((st & QNVME_ST_MASK & ~NVME_DNR) != want) {
            g_test_message("log page %02xh: status 0x%x", lid, st);
        }
        qnvme_assert_status_any_dnr(st, want);
    }
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* A failed command leaves an entry, newest first (base 5.16.1.2) */
static void test_log_error_entry(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, QNVME_NLBAS0, 1);
    NvmeErrorLogEntry log[3];
    NvmeSmartLog smart;
    NvmeCqe io_cqe, adm_cqe;
    NvmeSqe bad = { .opcode = NVME_ADM_GET_LOG_PAGE, .cdw10 = 0xbf };

    io_prep_buf(c, &cmd, 512);
    qnvme_assert_status(qnvme_exec(c, 1, &cmd, &io_cqe), ST_LBA_RANGE);
    qnvme_assert_status_any_dnr(qnvme_admin(c, &bad, &adm_cqe),
                                ST_CMD(NVME_SC_INVALID_LOG_PAGE));
    qnvme_read_log(c, NVME_LOG_ERROR, log, sizeof(log));
    g_assert_cmpuint(le64_to_cpu(log[0].error_count), ==, 2);
    g_assert_cmpuint(le16_to_cpu(log[0].sqid), ==, 0);
    g_assert_cmpuint(le16_to_cpu(log[0].cid), ==, adm_cqe.cid);
    g_assert_cmpuint(le64_to_cpu(log[1].error_count), ==, 1);
    g_assert_cmpuint(le16_to_cpu(log[1].sqid), ==, 1);
    g_assert_cmpuint(le16_to_cpu(log[1].cid), ==, io_cqe.cid);
    g_assert_cmphex((le16_to_cpu(log[1].status) >> 1) & QNVME_ST_MASK, ==,
                    ST_LBA_RANGE);
    g_assert_cmpuint(le32_to_cpu(log[1].nsid), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log[1].lba), ==, QNVME_NLBAS0);
    g_assert_cmpuint(le64_to_cpu(log[2].error_count), ==, 0);
    qnvme_read_log(c, NVME_LOG_SMART, &smart, sizeof(smart));
    g_assert_cmpuint(le64_to_cpu(smart.num_err_log_entries[0]), ==, 2);
    qnvme_shutdown(c);
}

/* Host commands and data units, the latter in rounded-up thousands of 512 B */
static void test_log_smart_counters(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSmartLog log;

    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le64_to_cpu(log.host_write_cmds[0]), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log.host_read_cmds[0]), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log.data_units_written[0]), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log.data_units_read[0]), ==, 0);
    qnvme_write_pattern(c, 1, 1, 0, 16, 1);
    qnvme_write_pattern(c, 1, 1, 16, 16, 2);
    for (int i = 0; i < 3; i++) {
        qnvme_assert_pattern(c, 1, 1, 0, 16, 1);
    }
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le64_to_cpu(log.host_write_cmds[0]), ==, 2);
    g_assert_cmpuint(le64_to_cpu(log.host_read_cmds[0]), ==, 3);
    g_assert_cmpuint(le64_to_cpu(log.data_units_written[0]), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log.data_units_read[0]), ==, 1);
    /* 32 + 1000 units written: 2 thousands, rounded up */
    qnvme_write_pattern(c, 1, 1, 32, 1000, 3);
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le64_to_cpu(log.host_write_cmds[0]), ==, 3);
    g_assert_cmpuint(le64_to_cpu(log.data_units_written[0]), ==, 2);
    g_assert_true(qnvme_all_zero(log.data_units_written + 1, 8));
    qnvme_shutdown(c);
}

/*
 * Host Read Commands count Compare commands too, and Data Units Read the
 * blocks they read (base 5.16.1.3: "for the NVM Command Set, ... Compare
 * and Read commands").
 */
static void test_log_smart_compare_is_read(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t data[8 * 512];
    NvmeSmartLog log;

    qnvme_pattern(data, sizeof(data), 4);
    qnvme_assert_ok(qnvme_write(c, 1, NVME_IO_WRITE, 1, 0, 8, data,
                                sizeof(data)));
    qnvme_assert_ok(qnvme_write(c, 1, NVME_IO_COMPARE, 1, 0, 8, data,
                                sizeof(data)));
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le64_to_cpu(log.host_read_cmds[0]), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log.data_units_read[0]), ==, 1);
    qnvme_shutdown(c);
}

static void qom_set_temperature(QNvmeCtrl *c, const char *id, int kelvin)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);

    qtest_qmp_assert_success(c->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': 'smart-temperature', "
                             "'value': %d}}", path, kelvin);
}

/* The composite temperature is the smart-temperature property, in kelvin */
static void test_log_smart_temperature(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSmartLog log;

    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le16_to_cpu(log.composite_temp), ==, 296);
    g_assert_cmphex(log.critical_warning, ==, 0);
    qom_set_temperature(c, "c0", 310);
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmpuint(le16_to_cpu(log.composite_temp), ==, 310);
    qnvme_shutdown(c);
}

/* LPA bit 0 clear: no per-namespace SMART data; NSID 1 is refused */
static void test_log_smart_nsid(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSmartLog log;
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(id.lpa & NVME_LPA_NS_SMART, ==, 0);
    qnvme_assert_status(qnvme_get_log(c, &(QNvmeGetLog){
                            .lid = NVME_LOG_SMART, .nsid = 1 },
                            &log, sizeof(log)), ST_INVALID_FIELD);
    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
                        .lid = NVME_LOG_SMART, .nsid = NVME_NSID_BROADCAST },
                        &log, sizeof(log)));
    qnvme_shutdown(c);
}

static void test_log_fw_slot(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeFwSlotLog log;
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    qnvme_read_log(c, NVME_LOG_FW_SLOT, &log, sizeof(log));
    /* AFI bits 2:0: the active slot, one of FRMW's; bits 6:4: none next */
    g_assert_cmpuint(log.afi & 7, >=, 1);
    g_assert_cmpuint(log.afi & 7, <=, (id.frmw >> 1) & 7);
    g_assert_cmphex(log.afi & 0x70, ==, 0);
    g_assert_true(!memcmp(log.frs[MAX(log.afi & 7, 1) - 1], id.fr,
                          sizeof(id.fr)));
    qnvme_shutdown(c);
}

/* Log Page Offset (LPA bit 2): a dword offset into the page, not beyond */
static void test_log_offset(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeFwSlotLog log;
    NvmeIdCtrl id;
    char frs[8];

    qnvme_identify_ctrl(c, &id);
    qnvme_read_log(c, NVME_LOG_FW_SLOT, &log, sizeof(log));
    /* the log came, not just the fill: slot 1 active, holding FR */
    g_assert_cmpuint(log.afi & 7, ==, 1);
    g_assert_true(!memcmp(log.frs[0], id.fr, 8));
    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
                        .lid = NVME_LOG_FW_SLOT, .offset = 8 }, frs, 8));
    g_assert_true(!memcmp(frs, log.frs[0], 8));
    qnvme_assert_status(qnvme_get_log(c, &(QNvmeGetLog){
                            .lid = NVME_LOG_FW_SLOT,
                            .offset = 2 * KiB }, frs, 8), ST_INVALID_FIELD);
    qnvme_shutdown(c);
}

/* base 5.16.1.6: what the controller runs, with its effects */
static void test_log_cmd_effects(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    g_autofree NvmeEffectsLog *log = g_new(NvmeEffectsLog, 1);

    qnvme_read_log(c, NVME_LOG_CMD_EFFECTS, log, sizeof(*log));
    g_assert_cmphex(le32_to_cpu(log->acs[NVME_ADM_IDENTIFY]) & NVME_EFF_CSUPP,
                    ==, NVME_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(log->acs[NVME_ADM_GET_LOG_PAGE]) &
                    NVME_EFF_CSUPP, ==, NVME_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(log->iocs[NVME_IO_READ]), ==, NVME_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(log->iocs[NVME_IO_WRITE]), ==,
                    NVME_EFF_CSUPP | NVME_EFF_LBCC);
    /* reserved opcodes are not supported */
    g_assert_cmphex(le32_to_cpu(log->acs[0x03]), ==, 0);
    g_assert_cmphex(le32_to_cpu(log->iocs[0x03]), ==, 0);
    g_assert_cmphex(le32_to_cpu(log->iocs[0x7f]), ==, 0);
    qnvme_shutdown(c);
}

/* ---- features (base 5.15, 5.27) ----------------------------------------- */

static uint32_t get_feature(QNvmeCtrl *c, uint8_t fid, uint8_t sel,
                            uint32_t dw11)
{
    uint32_t dw0;

    qnvme_assert_ok(qnvme_get_features(c, &(QNvmeFeat){
                        .fid = fid, .sel = sel, .dw11 = dw11 }, &dw0));
    return dw0;
}

/* The answer counts allocated queues, 0's based, at most max_ioqpairs */
static void test_features_num_queues(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint32_t dw0 = get_feature(c, NVME_FEAT_NUM_QUEUES, NVME_SEL_CURRENT, 0);

    g_assert_cmpuint(FIELD_EX32(dw0, NVME_NUM_Q, NSQ), ==, 63);
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_NUM_Q, NCQ), ==, 63);
    qnvme_assert_ok(qnvme_set_features(c, &(QNvmeFeat){
                        .fid = NVME_FEAT_NUM_QUEUES,
                        .dw11 = 0x1000 << 16 | 0x1000 }, &dw0));
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_NUM_Q, NSQ), ==, 63);
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_NUM_Q, NCQ), ==, 63);
    /* FFFFh would be 65536 queues: not a valid request */
    qnvme_assert_status(qnvme_set_features(c, &(QNvmeFeat){
                            .fid = NVME_FEAT_NUM_QUEUES,
                            .dw11 = 0xffff }, NULL), ST_INVALID_FIELD);
    qnvme_shutdown(c);
}

/* Queues beyond what was allocated cannot be created (base 5.27.1.7) */
static void test_features_num_queues_limit_create(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint32_t dw0, nsqa, ncqa;

    qnvme_assert_ok(qnvme_set_features(c, &(QNvmeFeat){
                        .fid = NVME_FEAT_NUM_QUEUES, .dw11 = 0 << 16 | 1 },
                        &dw0));
    nsqa = FIELD_EX32(dw0, NVME_NUM_Q, NSQ) + 1;
    ncqa = FIELD_EX32(dw0, NVME_NUM_Q, NCQ) + 1;
    g_assert_cmpuint(nsqa, <, 8);
    g_assert_cmpuint(ncqa, <, 8);
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = ncqa, .entries = 4, .ien = true }));
    qnvme_assert_status(qnvme_create_cq(c, &(QNvmeCreateQ){
                            .qid = ncqa + 1, .entries = 4, .ien = true }),
                        ST_CMD(NVME_SC_INVALID_QID) | NVME_DNR);
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = nsqa, .entries = 4, .cqid = ncqa }));
    qnvme_assert_status(qnvme_create_sq(c, &(QNvmeCreateQ){
                            .qid = nsqa + 1, .entries = 4, .cqid = ncqa }),
                        ST_CMD(NVME_SC_INVALID_QID) | NVME_DNR);
    qnvme_shutdown(c);
}

/* Only before any I/O queue exists: Command Sequence Error after */
static void test_features_num_queues_after_create(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_assert_status_any_dnr(qnvme_set_features(c, &(QNvmeFeat){
                                    .fid = NVME_FEAT_NUM_QUEUES }, NULL),
                                QNVME_ST(NVME_SCT_GENERIC,
                                         NVME_SC_COMMAND_SEQUENCE));
    qnvme_shutdown(c);
}

static void test_features_vwc(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(id.vwc & NVME_VWC_PRESENT, ==, NVME_VWC_PRESENT);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, 0, 0), ==, 1);
    qnvme_set_feature(c, NVME_FEAT_VOLATILE_WC, 0);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, 0, 0), ==, 0);
    qnvme_set_feature(c, NVME_FEAT_VOLATILE_WC, 1);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, 0, 0), ==, 1);
    qnvme_shutdown(c);
}

/* SEL: current, default, supported capabilities (base 5.15.1) */
static void test_features_select(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint32_t caps;

    qnvme_set_feature(c, NVME_FEAT_VOLATILE_WC, 0);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_CURRENT, 0),
                     ==, 0);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_DEFAULT, 0),
                     ==, 1);
    caps = get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_SUPPORTED_CAPS, 0);
    g_assert_cmphex(caps & NVME_FEAT_CAP_CHANGEABLE, ==,
                    NVME_FEAT_CAP_CHANGEABLE);
    /* ONCS bit 4 is clear: nothing is saveable */
    g_assert_cmphex(caps & NVME_FEAT_CAP_SAVEABLE, ==, 0);
    qnvme_shutdown(c);
}

static uint64_t get_timestamp(QNvmeCtrl *c)
{
    uint64_t ts;

    qnvme_assert_ok(qnvme_get_features(c, &(QNvmeFeat){
                        .fid = NVME_FEAT_TIMESTAMP, .buf = &ts,
                        .len = sizeof(ts) }, NULL));
    return le64_to_cpu(ts);
}

/* The host's value, counting on in milliseconds (base 5.27.1.12) */
static void test_features_timestamp(void)
{
    const uint64_t set_ms = 0x123456789ull;
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint64_t ts = get_timestamp(c), le = cpu_to_le64(set_ms);

    g_assert_cmpuint(FIELD_EX64(ts, NVME_TIMESTAMP, TO), ==,
                     NVME_TIMESTAMP_ORIGIN_RESET);
    qnvme_assert_ok(qnvme_set_features(c, &(QNvmeFeat){
                        .fid = NVME_FEAT_TIMESTAMP, .buf = &le,
                        .len = sizeof(le) }, NULL));
    qtest_clock_step(c->qts, 2000 * 1000 * 1000);     /* 2 s */
    ts = get_timestamp(c);
    g_assert_cmpuint(FIELD_EX64(ts, NVME_TIMESTAMP, TS), >=, set_ms + 2000);
    g_assert_cmpuint(FIELD_EX64(ts, NVME_TIMESTAMP, TS), <, set_ms + 3000);
    g_assert_cmpuint(FIELD_EX64(ts, NVME_TIMESTAMP, TO), ==,
                     NVME_TIMESTAMP_ORIGIN_HOST);
    g_assert_cmpuint(FIELD_EX64(ts, NVME_TIMESTAMP, SYNCH), ==, 0);
    qnvme_shutdown(c);
}

static uint32_t temp_dw11(uint16_t kelvin, uint8_t tmpsel, uint8_t thsel)
{
    uint32_t dw11 = FIELD_DP32(0, NVME_TEMP_DW11, TMPTH, kelvin);

    dw11 = FIELD_DP32(dw11, NVME_TEMP_DW11, TMPSEL, tmpsel);
    return FIELD_DP32(dw11, NVME_TEMP_DW11, THSEL, thsel);
}

static uint16_t get_threshold(QNvmeCtrl *c, uint8_t thsel)
{
    uint32_t dw0 = get_feature(c, NVME_FEAT_TEMP_THRESHOLD, 0,
                               temp_dw11(0, NVME_TMPSEL_COMPOSITE, thsel));

    return FIELD_EX32(dw0, NVME_TEMP_DW11, TMPTH);
}

static void test_features_temp_threshold(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    /* the over threshold starts at WCTEMP (base 5.27.1.4) */
    g_assert_cmpuint(get_threshold(c, NVME_THSEL_OVER), ==,
                     le16_to_cpu(id.wctemp));
    qnvme_set_feature(c, NVME_FEAT_TEMP_THRESHOLD,
                      temp_dw11(350, NVME_TMPSEL_COMPOSITE, NVME_THSEL_OVER));
    qnvme_set_feature(c, NVME_FEAT_TEMP_THRESHOLD,
                      temp_dw11(250, NVME_TMPSEL_COMPOSITE, NVME_THSEL_UNDER));
    g_assert_cmpuint(get_threshold(c, NVME_THSEL_OVER), ==, 350);
    g_assert_cmpuint(get_threshold(c, NVME_THSEL_UNDER), ==, 250);
    /* THSEL 10b is reserved; sensor 1 does not exist */
    qnvme_assert_status(qnvme_set_features(c, &(QNvmeFeat){
                            .fid = NVME_FEAT_TEMP_THRESHOLD,
                            .dw11 = temp_dw11(300, 0, 2) }, NULL),
                        ST_INVALID_FIELD);
    qnvme_assert_status(qnvme_set_features(c, &(QNvmeFeat){
                            .fid = NVME_FEAT_TEMP_THRESHOLD,
                            .dw11 = temp_dw11(300, 1, 0) }, NULL),
                        ST_INVALID_FIELD);
    qnvme_shutdown(c);
}

/* Nothing is saveable (ONCS bit 4 clear): Feature Identifier Not Saveable */
static void test_features_save_refused(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();

    qnvme_assert_status_any_dnr(qnvme_set_features(c, &(QNvmeFeat){
                                    .fid = NVME_FEAT_VOLATILE_WC, .dw11 = 1,
                                    .save = true }, NULL),
                                ST_CMD(NVME_SC_FEAT_NOT_SAVEABLE));
    qnvme_shutdown(c);
}

static void test_features_unknown_fid(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    static const uint8_t fids[] = { 0x00, 0x7f, 0xff };

    for (int i = 0; i < ARRAY_SIZE(fids); i++) {
        qnvme_assert_status(qnvme_get_features(c, &(QNvmeFeat){
                                .fid = fids[i] }, NULL), ST_INVALID_FIELD);
        qnvme_assert_status(qnvme_set_features(c, &(QNvmeFeat){
                                .fid = fids[i] }, NULL), ST_INVALID_FIELD);
    }
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* A controller-wide feature with a namespace's NSID (base 5.27) */
static void test_features_not_ns_specific(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();

    qnvme_assert_status_any_dnr(qnvme_set_features(c, &(QNvmeFeat){
                                    .fid = NVME_FEAT_VOLATILE_WC,
                                    .nsid = 1 }, NULL),
                                ST_CMD(NVME_SC_FEAT_NOT_NS_SPECIFIC));
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, 0, 0), ==, 1);
    qnvme_shutdown(c);
}

/* ---- asynchronous events (base 5.2) ------------------------------------- */

/* AERL 3: four outstanding requests; a fifth is refused */
static void test_aer_limit(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint16_t cids[4];
    NvmeSqe cmd = { .opcode = NVME_ADM_ASYNC_EVENT };

    for (int i = 0; i < 4; i++) {
        cids[i] = qnvme_aer_submit(c);
    }
    qnvme_assert_status_any_dnr(qnvme_admin(c, &cmd, NULL),
                                ST_CMD(NVME_SC_AER_LIMIT));
    for (int i = 0; i < 4; i++) {
        qnvme_assert_pending(c, 0, cids[i]);
    }
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

static void enable_temp_events(QNvmeCtrl *c)
{
    qnvme_set_feature(c, NVME_FEAT_ASYNC_EVENT_CFG,
                      NVME_SMART_WARN_TEMPERATURE);
}

static void assert_temp_aer(QNvmeCtrl *c, uint16_t cid)
{
    qnvme_assert_aer(c, cid, NVME_AER_TYPE_SMART,
                     NVME_AER_INFO_SMART_TEMP_THRESHOLD, NVME_LOG_SMART);
}

/* The temperature rises over the threshold: a SMART event (base 5.27.1.4) */
static void test_aer_smart_temp_rise(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSmartLog log;
    uint16_t cid;

    enable_temp_events(c);
    cid = qnvme_aer_submit(c);
    qnvme_assert_pending(c, 0, cid);
    qom_set_temperature(c, "c0", 350);
    assert_temp_aer(c, cid);
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    g_assert_cmphex(log.critical_warning & NVME_SMART_WARN_TEMPERATURE, ==,
                    NVME_SMART_WARN_TEMPERATURE);
    qnvme_shutdown(c);
}

/* The threshold falls below the temperature: the same event */
static void test_aer_smart_threshold_lowered(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint16_t cid;

    enable_temp_events(c);
    cid = qnvme_aer_submit(c);
    qnvme_set_feature(c, NVME_FEAT_TEMP_THRESHOLD,
                      temp_dw11(290, NVME_TMPSEL_COMPOSITE, NVME_THSEL_OVER));
    assert_temp_aer(c, cid);
    qnvme_shutdown(c);
}

/* Asynchronous Event Configuration bit 1 clear: no temperature event */
static void test_aer_smart_temp_disabled(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint16_t cid;

    qnvme_set_feature(c, NVME_FEAT_ASYNC_EVENT_CFG, 0);
    cid = qnvme_aer_submit(c);
    qom_set_temperature(c, "c0", 350);
    qnvme_assert_pending(c, 0, cid);
    qnvme_shutdown(c);
}

/*
 * A reported event masks its kind until the host reads the log with RAE
 * cleared; RAE set keeps it masked (base 5.2, 5.16).
 */
static void test_aer_smart_rearm(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    NvmeSmartLog log;
    uint16_t cid;

    enable_temp_events(c);
    cid = qnvme_aer_submit(c);
    qom_set_temperature(c, "c0", 350);
    assert_temp_aer(c, cid);
    cid = qnvme_aer_submit(c);
    qom_set_temperature(c, "c0", 355);
    qnvme_assert_pending(c, 0, cid);
    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
                        .lid = NVME_LOG_SMART, .rae = true },
                        &log, sizeof(log)));
    qom_set_temperature(c, "c0", 356);
    qnvme_assert_pending(c, 0, cid);
    qnvme_read_log(c, NVME_LOG_SMART, &log, sizeof(log));
    qom_set_temperature(c, "c0", 357);
    assert_temp_aer(c, cid);
    qnvme_shutdown(c);
}

static uint32_t abort_cmd(QNvmeCtrl *c, uint16_t sqid, uint16_t cid)
{
    NvmeSqe cmd = {
        .opcode = NVME_ADM_ABORT,
        .cdw10 = FIELD_DP32(sqid, NVME_ABORT_DW10, CID, cid),
    };
    NvmeCqe cqe;

    qnvme_assert_ok(qnvme_admin(c, &cmd, &cqe));
    return cqe.dw0;
}

/* An outstanding AER can be aborted (base 5.1: dw0 bit 0 clear) */
static void test_aer_abort(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint16_t cid = qnvme_aer_submit(c);
    NvmeCqe cqe;

    qnvme_assert_pending(c, 0, cid);
    g_assert_cmpuint(abort_cmd(c, 0, cid) & 1, ==, 0);
    cqe = qnvme_wait_cqe(c, 0, cid);
    qnvme_assert_status_any_dnr(qnvme_cqe_status(&cqe),
                                QNVME_ST(NVME_SCT_GENERIC,
                                         NVME_SC_ABORT_REQUESTED));
    /* an Abort of a command that is not outstanding aborts nothing */
    g_assert_cmpuint(abort_cmd(c, 0, cid) & 1, ==, 1);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- data pointers: PRPs and SGLs (base 4.3) ---------------------------- */

/* Where the data of one command lies in guest memory, piece by piece. */
#define XFER_PIECES_MAX 320

typedef struct Xfer {
    uint64_t area;              /* everything lies within [area, area + size) */
    size_t   size;
    size_t   len;               /* sum of the pieces */
    int      n;
    uint64_t addr[XFER_PIECES_MAX];
    uint32_t plen[XFER_PIECES_MAX];
} Xfer;

static void xfer_add(Xfer *x, uint64_t off, uint32_t len)
{
    g_assert_cmpint(x->n, <, XFER_PIECES_MAX);
    g_assert_cmpuint(off + len, <=, x->size);
    x->addr[x->n] = x->area + off;
    x->plen[x->n++] = len;
    x->len += len;
}

static Xfer *xfer_new(QNvmeCtrl *c, size_t size)
{
    Xfer *x = g_new0(Xfer, 1);

    x->size = size;
    x->area = qnvme_alloc(c, size);
    return x;
}

/* One contiguous piece of @len bytes at @off. */
static Xfer *xfer_contig(QNvmeCtrl *c, uint64_t off, size_t len)
{
    Xfer *x = xfer_new(c, off + len);

    xfer_add(x, off, len);
    return x;
}

/* Copy @data into the pieces, or the pieces into @data. */
static void xfer_put(QNvmeCtrl *c, const Xfer *x, const uint8_t *data)
{
    for (int i = 0; i < x->n; data += x->plen[i], i++) {
        qtest_bufwrite(c->qts, x->addr[i], data, x->plen[i]);
    }
}

static void xfer_get(QNvmeCtrl *c, const Xfer *x, uint8_t *data)
{
    for (int i = 0; i < x->n; data += x->plen[i], i++) {
        qtest_bufread(c->qts, x->addr[i], data, x->plen[i]);
    }
}

/* Bytes of the area outside every piece still hold @fill. */
static void xfer_assert_gaps(QNvmeCtrl *c, const Xfer *x, uint8_t fill)
{
    g_autofree uint8_t *area = g_malloc(x->size);
    g_autofree bool *used = g_new0(bool, x->size);
    size_t changed = 0;

    qtest_bufread(c->qts, x->area, area, x->size);
    for (int i = 0; i < x->n; i++) {
        memset(used + (x->addr[i] - x->area), true, x->plen[i]);
    }
    for (size_t i = 0; i < x->size; i++) {
        changed += !used[i] && area[i] != fill;
    }
    g_assert_cmpuint(changed, ==, 0);
}

typedef enum DptrKind {
    DPTR_PRP,               /* one contiguous piece, PRP1/PRP2/lists */
    DPTR_SGL_IN_SQE,        /* one piece: a Data Block in the SQE */
    DPTR_SGL_CHAIN,         /* SQE: Segment -> [data, data, Last Segment] */
    DPTR_SGL_LAST_SEG,      /* SQE: Last Segment -> [every data block] */
} DptrKind;

static uint64_t sgl_segment(QNvmeCtrl *c, const NvmeSgl *descs, int n)
{
    uint64_t seg = qnvme_alloc(c, n * sizeof(NvmeSgl));

    qtest_memwrite(c->qts, seg, descs, n * sizeof(NvmeSgl));
    return seg;
}

/* Point @cmd's data pointer at the pieces of @x, as @kind says. */
static void set_dptr(QNvmeCtrl *c, NvmeSqe *cmd, DptrKind kind, const Xfer *x)
{
    g_autofree NvmeSgl *d = g_new0(NvmeSgl, x->n + 1);
    int split = x->n / 2;

    for (int i = 0; i < x->n; i++) {
        d[i] = qnvme_sgl(x->addr[i], x->plen[i], NVME_SGL_DATA_BLOCK);
    }
    switch (kind) {
    case DPTR_PRP:
        g_assert_cmpint(x->n, ==, 1);
        qnvme_set_prps(c, cmd, x->addr[0], x->plen[0]);
        break;
    case DPTR_SGL_IN_SQE:
        g_assert_cmpint(x->n, ==, 1);
        qnvme_set_sgl(cmd, x->addr[0], x->plen[0], NVME_SGL_DATA_BLOCK);
        break;
    case DPTR_SGL_CHAIN: {
        uint64_t last = sgl_segment(c, d + split, x->n - split);
        NvmeSgl first[XFER_PIECES_MAX + 1];

        memcpy(first, d, split * sizeof(NvmeSgl));
        first[split] = qnvme_sgl(last, (x->n - split) * sizeof(NvmeSgl),
                                 NVME_SGL_LAST_SEGMENT);
        qnvme_set_sgl(cmd, sgl_segment(c, first, split + 1),
                      (split + 1) * sizeof(NvmeSgl), NVME_SGL_SEGMENT);
        break;
    }
    case DPTR_SGL_LAST_SEG:
        qnvme_set_sgl(cmd, sgl_segment(c, d, x->n), x->n * sizeof(NvmeSgl),
                      NVME_SGL_LAST_SEGMENT);
        break;
    }
}

/*
 * Write a pattern through @x as @kind says, read it back with PRPs, then
 * read it again through @x: every byte where it belongs, and nothing
 * written outside the pieces.
 */
static void rw_roundtrip(QNvmeCtrl *c, DptrKind kind, Xfer *x)
{
    uint32_t nlb = x->len / 512;
    g_autofree uint8_t *want = g_malloc(x->len);
    g_autofree uint8_t *got = g_malloc(x->len);
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_WRITE, 1, 8, nlb);

    g_assert_cmpuint(x->len % 512, ==, 0);
    qnvme_pattern(want, x->len, x->len + kind);
    xfer_put(c, x, want);
    set_dptr(c, &cmd, kind, x);
    qnvme_assert_ok(io_exec(c, &cmd));
    qnvme_assert_ok(qnvme_read(c, 1, 1, 8, nlb, got, x->len));
    g_assert_true(memcmp(want, got, x->len) == 0);

    qtest_memset(c->qts, x->area, 0xee, x->size);
    cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 8, nlb);
    set_dptr(c, &cmd, kind, x);
    qnvme_assert_ok(io_exec(c, &cmd));
    xfer_get(c, x, got);
    g_assert_true(memcmp(want, got, x->len) == 0);
    xfer_assert_gaps(c, x, 0xee);
    g_free(x);
}

static void prp_case(const char *devs, uint64_t off, size_t len)
{
    QNvmeCtrl *c = qnvme_boot_io_with(devs);

    rw_roundtrip(c, DPTR_PRP, xfer_contig(c, off, len));
    qnvme_shutdown(c);
}

/* 512 bytes inside one page: PRP1 alone, with an offset */
static void test_data_prp1_only(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x100, 512);
}

static void test_data_prp1_prp2(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0, 8 * KiB);
}

/* 4 KiB from the middle of a page: PRP1 to its end, PRP2 the rest */
static void test_data_prp1_offset_prp2(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x800, 4 * KiB);
}

static void test_data_prp_list(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0, 64 * KiB);
}

static void test_data_prp_list_offset(void)
{
    prp_case(QNVME_DEFAULT_DEV, 0x200, 64 * KiB);
}

/* 4 MiB (MDTS 10): 1023 list entries, so two list pages chained */
static void test_data_prp_list_chained(void)
{
    prp_case("-device nvme," QNVME_ADDR ",serial=big,drive=d0,mdts=10",
             0, 4 * MiB);
}

/*
 * CC.MPS 4 (64 KiB host pages, CAP.MPSMAX 4): 33 MiB in PRP1 and a list of
 * 520 or more entries, more than the controller reads at once (base 4.3.1).
 * The image file itself is checked, so that a read and a write that both
 * follow the same wrong entries cannot hide each other. Each 64 KiB page
 * carries its number at its start and end; moving 33 MiB through qtest's
 * text protocol would take minutes, so guest memory is checked there only.
 */
#define MPS64K_PAGES    521
#define MPS64K          (64 * KiB)

static uint64_t mps64k_tag(size_t page, uint8_t seed)
{
    return 0x7e57000000000000ull | (uint64_t)seed << 32 | page;
}

/* @page's expected bytes: @seed everywhere, its tags at both ends */
static void mps64k_fill(uint8_t *data, size_t page, uint8_t seed)
{
    uint64_t tag = cpu_to_le64(mps64k_tag(page, seed));

    memset(data, seed, MPS64K);
    memcpy(data, &tag, 8);
    memcpy(data + MPS64K - 8, &tag, 8);
}

/* The tags in guest memory at @buf are those of @seed */
static void mps64k_assert_tags(QNvmeCtrl *c, uint64_t buf, uint8_t seed)
{
    size_t bad = 0;

    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        uint64_t head, tail;

        qtest_memread(c->qts, buf + page * MPS64K, &head, 8);
        qtest_memread(c->qts, buf + (page + 1) * MPS64K - 8, &tail, 8);
        bad += le64_to_cpu(head) != mps64k_tag(page, seed) ||
               le64_to_cpu(tail) != mps64k_tag(page, seed);
    }
    g_assert_cmpuint(bad, ==, 0);
}

static uint16_t mps64k_rw(QNvmeCtrl *c, uint8_t opcode, uint64_t buf)
{
    const size_t len = MPS64K_PAGES * MPS64K;
    NvmeSqe cmd = qnvme_rw_cmd(opcode, 1, 0, len / 4096);

    qnvme_set_prps(c, &cmd, buf, len);
    return qnvme_exec(c, 1, &cmd, NULL);
}

static void test_data_prp_list_mps_64k(void)
{
    const size_t len = MPS64K_PAGES * MPS64K;
    g_autofree char *img = qnvme_make_image(len);
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);
    QNvmeCtrl *c;
    uint64_t buf;
    int fd = open(img, O_RDWR);

    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        mps64k_fill(want + page * MPS64K, page, 0x11);
    }
    g_assert_cmpint(pwrite(fd, want, len, 0), ==, len);
    c = qnvme_boot("-drive if=none,id=big,file=%s,format=raw "
                   "-device nvme,id=c0," QNVME_ADDR ",serial=mps,drive=big,"
                   "logical_block_size=4096,physical_block_size=4096,mdts=0",
                   img);
    g_assert_cmpuint(FIELD_EX64(qnvme_readq(c, A_NVME_CAP), NVME_CAP, MPSMAX),
                     >=, 4);
    qnvme_enable_cc(c, FIELD_DP32(QNVME_CC_DEFAULT, NVME_CC, MPS, 4));
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    /* not 64 KiB aligned: PRP1 carries an offset into its page */
    buf = qnvme_alloc_aligned(c, len + MPS64K, MPS64K) + 3 * QNVME_PAGE;

    qtest_memset(c->qts, buf, 0, len);
    qnvme_assert_ok(mps64k_rw(c, NVME_IO_READ, buf));
    mps64k_assert_tags(c, buf, 0x11);

    qtest_memset(c->qts, buf, 0x22, len);
    for (size_t page = 0; page < MPS64K_PAGES; page++) {
        mps64k_fill(want + page * MPS64K, page, 0x22);
        qtest_memwrite(c->qts, buf + page * MPS64K, want + page * MPS64K, 8);
        qtest_memwrite(c->qts, buf + (page + 1) * MPS64K - 8,
                       want + (page + 1) * MPS64K - 8, 8);
    }
    qnvme_assert_ok(mps64k_rw(c, NVME_IO_WRITE, buf));
    g_assert_cmpint(pread(fd, got, len, 0), ==, len);
    g_assert_true(memcmp(want, got, len) == 0);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
    close(fd);
    unlink(img);
}

/* One Data Block descriptor in the SQE, at an odd address */
static void test_data_sgl_data_block(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_IN_SQE, xfer_contig(c, 0x10, 8 * KiB));
    qnvme_shutdown(c);
}

/* Pieces of odd sizes and places, one across a page boundary */
static Xfer *xfer_scattered(QNvmeCtrl *c)
{
    Xfer *x = xfer_new(c, 16 * KiB);

    xfer_add(x, 0x10, 700);
    xfer_add(x, 0x800, 324);
    xfer_add(x, 0x1f00, 1000);
    xfer_add(x, 0x3001, 1048);
    return x;
}

static void test_data_sgl_segment_chain(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_CHAIN, xfer_scattered(c));
    qnvme_shutdown(c);
}

static void test_data_sgl_last_segment(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    rw_roundtrip(c, DPTR_SGL_LAST_SEG, xfer_scattered(c));
    qnvme_shutdown(c);
}

/* A segment of 300 descriptors, more than a controller reads at once */
static void test_data_sgl_long_segment(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    Xfer *x = xfer_new(c, 300 * KiB);

    for (int i = 0; i < 300; i++) {
        xfer_add(x, i * KiB + (i % 7) * 16, 512);
    }
    rw_roundtrip(c, DPTR_SGL_LAST_SEG, x);
    qnvme_shutdown(c);
}

/* ---- NVM commands (nvm 3.3) --------------------------------------------- */

static uint16_t no_data_cmd(QNvmeCtrl *c, uint8_t opcode, uint32_t nsid,
                            uint64_t slba, uint32_t nlb, uint32_t dw12_flags)
{
    NvmeSqe cmd = qnvme_rw_cmd(opcode, nsid, slba, nlb);

    cmd.cdw12 |= dw12_flags;
    return io_exec(c, &cmd);
}

/* Write Zeroes, with and without Deallocate: the range reads as zeroes */
static void test_io_write_zeroes(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_write_pattern(c, 1, 1, 0, 48, 5);
    qnvme_assert_ok(no_data_cmd(c, NVME_IO_WRITE_ZEROES, 1, 8, 8, 0));
    qnvme_assert_ok(no_data_cmd(c, NVME_IO_WRITE_ZEROES, 1, 24, 8,
                                R_NVME_RW_DW12_DEAC_MASK));
    assert_zeroes(c, 8, 8);
    assert_zeroes(c, 24, 8);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 5);
    qnvme_shutdown(c);
}

static uint16_t dsm_deallocate(QNvmeCtrl *c, const NvmeDsmRange *ranges,
                               int nr, bool deallocate)
{
    NvmeSqe cmd = {
        .opcode = NVME_IO_DSM, .nsid = 1,
        .cdw10 = FIELD_DP32(0, NVME_DSM_DW10, NR, nr - 1),
        .cdw11 = FIELD_DP32(0, NVME_DSM_DW11, AD, deallocate),
    };
    uint64_t buf = io_prep_buf(c, &cmd, nr * sizeof(*ranges));

    qtest_memwrite(c->qts, buf, ranges, nr * sizeof(*ranges));
    return io_exec(c, &cmd);
}

/* Deallocated blocks read as zeroes, as DLFEAT 001b promises (nvm 3.3.3) */
static void test_io_dsm_deallocate(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeDsmRange ranges[2] = {
        { .nlb = cpu_to_le32(8), .slba = cpu_to_le64(8) },
        { .nlb = cpu_to_le32(16), .slba = cpu_to_le64(40) },
    };

    qnvme_write_pattern(c, 1, 1, 0, 64, 6);
    /* without the Deallocate attribute the ranges are only hints */
    qnvme_assert_ok(dsm_deallocate(c, ranges, 2, false));
    qnvme_assert_pattern(c, 1, 1, 0, 64, 6);
    qnvme_assert_ok(dsm_deallocate(c, ranges, 2, true));
    assert_zeroes(c, 8, 8);
    assert_zeroes(c, 40, 16);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 6);
    qnvme_shutdown(c);
}

static uint16_t compare_with(QNvmeCtrl *c, uint32_t seed)
{
    uint8_t data[8 * 512];

    qnvme_pattern(data, sizeof(data), seed);
    return qnvme_write(c, 1, NVME_IO_COMPARE, 1, 16, 8, data, sizeof(data));
}

static void test_io_compare_match(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_write_pattern(c, 1, 1, 16, 8, 7);
    qnvme_assert_ok(compare_with(c, 7));
    qnvme_shutdown(c);
}

static void test_io_compare_mismatch(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_write_pattern(c, 1, 1, 16, 8, 7);
    qnvme_assert_status(compare_with(c, 8),
                        QNVME_ST_DNR(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILURE));
    qnvme_shutdown(c);
}

static void test_io_verify(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_assert_ok(no_data_cmd(c, NVME_IO_VERIFY, 1, 0, 256, 0));
    qnvme_assert_ok(no_data_cmd(c, NVME_IO_VERIFY, 1, QNVME_NLBAS0 - 1, 1, 0));
    qnvme_assert_status(no_data_cmd(c, NVME_IO_VERIFY, 1, QNVME_NLBAS0 - 1, 2,
                                    0), ST_LBA_RANGE);
    qnvme_shutdown(c);
}

/* Flush of one namespace, and of all with FFFFFFFFh (VWC bits 2:1 11b) */
static void test_io_flush(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(id.vwc & 6, ==, NVME_VWC_NSID_BCAST_OK);
    qnvme_write_pattern(c, 1, 1, 0, 8, 9);
    qnvme_assert_ok(no_data_cmd(c, NVME_IO_FLUSH, 1, 0, 1, 0));
    qnvme_assert_ok(no_data_cmd(c, NVME_IO_FLUSH, NVME_NSID_BROADCAST, 0, 1,
                                0));
    qnvme_assert_pattern(c, 1, 1, 0, 8, 9);
    qnvme_shutdown(c);
}

static uint16_t format_nvm(QNvmeCtrl *c, uint32_t nsid, uint32_t dw10)
{
    NvmeSqe cmd = { .opcode = NVME_ADM_FORMAT_NVM, .nsid = nsid,
                    .cdw10 = dw10 };

    return qnvme_admin(c, &cmd, NULL);
}

/* Format NVM to LBA format 1: 4 KiB blocks, an eighth as many (base 5.23) */
static void test_admin_format_lbaf(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t data[4096], back[4096];
    NvmeIdNs id;

    qnvme_assert_ok(format_nvm(c, 1, FIELD_DP32(0, NVME_FORMAT_DW10, LBAFL,
                                                1)));
    qnvme_identify_ns(c, 1, &id);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 1);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_NLBAS0 / 8);
    /* one logical block is now 4 KiB */
    qnvme_pattern(data, sizeof(data), 10);
    qnvme_assert_ok(qnvme_write(c, 1, NVME_IO_WRITE, 1, 3, 1, data,
                                sizeof(data)));
    qnvme_assert_ok(qnvme_read(c, 1, 1, 3, 1, back, sizeof(back)));
    g_assert_true(memcmp(data, back, sizeof(data)) == 0);
    qnvme_assert_status(no_data_cmd(c, NVME_IO_VERIFY, 1, QNVME_NLBAS0 / 8, 1,
                                    0), ST_LBA_RANGE);
    qnvme_assert_ok(format_nvm(c, 1, 0));
    qnvme_identify_ns(c, 1, &id);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_NLBAS0);
    qnvme_shutdown(c);
}

/*
 * A namespace whose Identify data changed is listed in the Changed Namespace
 * List, with a Namespace Attribute Changed notice if enabled; reading the
 * log with RAE cleared empties it (base 5.16.1.5, 5.27.1.11).
 */
static void test_log_changed_ns(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    g_autofree NvmeChangedNsLog *log = g_new(NvmeChangedNsLog, 1);
    uint16_t aer;

    qnvme_set_feature(c, NVME_FEAT_ASYNC_EVENT_CFG, NVME_AEC_NS_ATTR);
    aer = qnvme_aer_submit(c);
    qnvme_read_log(c, NVME_LOG_CHANGED_NS, log, sizeof(*log));
    g_assert_true(qnvme_all_zero(log, sizeof(*log)));
    qnvme_assert_ok(format_nvm(c, 1, FIELD_DP32(0, NVME_FORMAT_DW10, LBAFL,
                                                1)));
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_NOTICE, NVME_AER_INFO_NOTICE_NS_ATTR,
                     NVME_LOG_CHANGED_NS);
    qnvme_read_log(c, NVME_LOG_CHANGED_NS, log, sizeof(*log));
    g_assert_cmpuint(le32_to_cpu(log->nsid[0]), ==, 1);
    g_assert_true(qnvme_all_zero(&log->nsid[1], sizeof(*log) - 4));
    qnvme_read_log(c, NVME_LOG_CHANGED_NS, log, sizeof(*log));
    g_assert_true(qnvme_all_zero(log, sizeof(*log)));
    qnvme_shutdown(c);
}

/* An LBA format the namespace does not list, or metadata: Invalid Format */
static void test_admin_format_invalid(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeIdNs id;

    qnvme_assert_status_any_dnr(format_nvm(c, 1, 2),
                                ST_CMD(NVME_SC_INVALID_FORMAT));
    qnvme_assert_status_any_dnr(format_nvm(c, 1,
                                           1 | R_NVME_FORMAT_DW10_MSET_MASK),
                                ST_CMD(NVME_SC_INVALID_FORMAT));
    qnvme_identify_ns(c, 1, &id);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, QNVME_NLBAS0);
    qnvme_shutdown(c);
}

/* Two I/O queue pairs with commands outstanding on both at once */
static void test_io_two_queue_pairs(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t a[4096], b[4096];
    NvmeSqe wa = qnvme_rw_cmd(NVME_IO_WRITE, 1, 100, 8);
    NvmeSqe wb = qnvme_rw_cmd(NVME_IO_WRITE, 1, 200, 8);
    uint16_t ca, cb;
    NvmeCqe ea, eb;

    qnvme_create_ioq_pair(c, 2, QNVME_IOQ_ENTRIES);
    qnvme_pattern(a, sizeof(a), 11);
    qnvme_pattern(b, sizeof(b), 12);
    qtest_memwrite(c->qts, io_prep_buf(c, &wa, sizeof(a)), a, sizeof(a));
    qtest_memwrite(c->qts, io_prep_buf(c, &wb, sizeof(b)), b, sizeof(b));
    ca = qnvme_submit(c, 1, &wa);
    cb = qnvme_submit(c, 2, &wb);
    ea = qnvme_wait_cqe(c, 2, cb);
    eb = qnvme_wait_cqe(c, 1, ca);
    qnvme_assert_ok(qnvme_cqe_status(&ea));
    qnvme_assert_ok(qnvme_cqe_status(&eb));
    g_assert_cmpuint(ea.sqid, ==, 2);
    g_assert_cmpuint(eb.sqid, ==, 1);
    /* each queue reads what the other one wrote */
    qnvme_assert_pattern(c, 2, 1, 100, 8, 11);
    qnvme_assert_pattern(c, 1, 1, 200, 8, 12);
    qnvme_shutdown(c);
}

/* ---- interrupts --------------------------------------------------------- */

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
    return qtest_get_irq(c->qts, QNVME_INTX_GSI);
}

/* Submit a read of block 0 on SQ @sqid; wait until its CQE is posted. */
static void read_until_posted(QNvmeCtrl *c, uint16_t sqid)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);
    NvmeCqe cqe;

    io_prep_buf(c, &cmd, 512);
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

/* ---- hostile input: doorbells (base 5.2: Invalid Doorbell events) ------- */

typedef struct DoorbellCase {
    uint16_t qid;
    bool     cq;
    uint32_t value;
    uint8_t  info;          /* the event's Asynchronous Event Information */
} DoorbellCase;

static const DoorbellCase db_sq_missing = {
    5, false, 1, NVME_AER_INFO_ERR_INVALID_DB_REG };
static const DoorbellCase db_cq_missing = {
    7, true, 0, NVME_AER_INFO_ERR_INVALID_DB_REG };
static const DoorbellCase db_beyond_queues = {       /* max_ioqpairs is 64 */
    65, false, 1, NVME_AER_INFO_ERR_INVALID_DB_REG };
static const DoorbellCase db_sq_tail_too_big = {
    1, false, QNVME_IOQ_ENTRIES, NVME_AER_INFO_ERR_INVALID_DB_VALUE };
static const DoorbellCase db_cq_head_too_big = {
    1, true, QNVME_IOQ_ENTRIES, NVME_AER_INFO_ERR_INVALID_DB_VALUE };
static const DoorbellCase db_cq_head_unposted = {
    1, true, 3, NVME_AER_INFO_ERR_INVALID_DB_VALUE };
static const DoorbellCase db_admin_tail_too_big = {
    0, false, QNVME_AQ_ENTRIES, NVME_AER_INFO_ERR_INVALID_DB_VALUE };

/* The write is ignored, an error event reports it, and I/O goes on */
static void test_hostile_doorbell(const void *data)
{
    const DoorbellCase *dc = data;
    QNvmeCtrl *c = qnvme_boot_io();
    uint16_t aer = qnvme_aer_submit(c);
    NvmeErrorLogEntry log;

    qnvme_assert_pending(c, 0, aer);
    qnvme_writel(c, dc->cq ? qnvme_cq_db(dc->qid) : qnvme_sq_db(dc->qid),
                 dc->value);
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_ERROR, dc->info, NVME_LOG_ERROR);
    qnvme_read_log(c, NVME_LOG_ERROR, &log, sizeof(log));
    qnvme_assert_alive(c);
    qnvme_write_pattern(c, 1, 1, 0, 8, 13);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 13);
    qnvme_shutdown(c);
}

/* An event with no AER outstanding waits for the next one */
static void test_hostile_doorbell_event_queued(void)
{
    QNvmeCtrl *c = qnvme_boot_io();

    qnvme_writel(c, qnvme_sq_db(5), 1);
    qnvme_assert_alive(c);
    qnvme_assert_aer(c, qnvme_aer_submit(c), NVME_AER_TYPE_ERROR,
                     NVME_AER_INFO_ERR_INVALID_DB_REG, NVME_LOG_ERROR);
    qnvme_shutdown(c);
}

/* ---- hostile input: queue management (base 5.4-5.7) --------------------- */

typedef enum QueueMem {
    QMEM_RING,              /* fresh, page aligned guest RAM */
    QMEM_UNALIGNED,
    QMEM_MMIO,              /* the controller's own BAR0 */
    QMEM_NOT_RAM,
} QueueMem;

typedef struct QueueCase {
    uint8_t  opcode;
    uint16_t qid;
    uint16_t qsize;         /* 0's based */
    uint32_t dw11;
    QueueMem mem;
    uint16_t want;
} QueueCase;

#define CQ_DW11     (R_NVME_CREATE_CQ_DW11_PC_MASK | \
                     R_NVME_CREATE_CQ_DW11_IEN_MASK)
#define SQ_DW11(cq) (R_NVME_CREATE_SQ_DW11_PC_MASK | \
                     (cq) << R_NVME_CREATE_SQ_DW11_CQID_SHIFT)
#define CQ_CASE(qid, qsize, dw11, mem, want) \
    { NVME_ADM_CREATE_CQ, qid, qsize, dw11, mem, want }
#define SQ_CASE(qid, qsize, dw11, mem, want) \
    { NVME_ADM_CREATE_SQ, qid, qsize, dw11, mem, want }
#define ST_Q(sc)    (ST_CMD(sc) | NVME_DNR)

static const QueueCase cq_qid_zero = CQ_CASE(0, 3, CQ_DW11, QMEM_RING,
                                             ST_Q(NVME_SC_INVALID_QID));
static const QueueCase cq_qid_over_max = CQ_CASE(65, 3, CQ_DW11, QMEM_RING,
                                                 ST_Q(NVME_SC_INVALID_QID));
static const QueueCase cq_qid_existing = CQ_CASE(1, 3, CQ_DW11, QMEM_RING,
                                                 ST_Q(NVME_SC_INVALID_QID));
static const QueueCase cq_size_one = CQ_CASE(2, 0, CQ_DW11, QMEM_RING,
                                             ST_Q(NVME_SC_INVALID_QSIZE));
static const QueueCase cq_size_over_mqes = CQ_CASE(2, 2048, CQ_DW11, QMEM_RING,
                                                   ST_Q(NVME_SC_INVALID_QSIZE));
static const QueueCase cq_vector_over = CQ_CASE(
    2, 3, CQ_DW11 | 65 << R_NVME_CREATE_CQ_DW11_IV_SHIFT, QMEM_RING,
    ST_Q(NVME_SC_INVALID_IRQ_VECTOR));
/* CAP.CQR is 1: queues must be physically contiguous */
static const QueueCase cq_not_contiguous = CQ_CASE(
    2, 3, R_NVME_CREATE_CQ_DW11_IEN_MASK, QMEM_RING, ST_INVALID_FIELD);
static const QueueCase cq_unaligned = CQ_CASE(2, 3, CQ_DW11, QMEM_UNALIGNED,
                                              ST_INVALID_FIELD);
static const QueueCase cq_mmio = CQ_CASE(2, 3, CQ_DW11, QMEM_MMIO,
                                         ST_DATA_XFER);
static const QueueCase cq_not_ram = CQ_CASE(2, 3, CQ_DW11, QMEM_NOT_RAM,
                                            ST_DATA_XFER);
static const QueueCase sq_cq_missing = SQ_CASE(2, 3, SQ_DW11(7), QMEM_RING,
                                               ST_Q(NVME_SC_CQ_INVALID));
static const QueueCase sq_cq_admin = SQ_CASE(2, 3, SQ_DW11(0), QMEM_RING,
                                             ST_Q(NVME_SC_CQ_INVALID));
static const QueueCase sq_qid_zero = SQ_CASE(0, 3, SQ_DW11(1), QMEM_RING,
                                             ST_Q(NVME_SC_INVALID_QID));
static const QueueCase sq_qid_existing = SQ_CASE(1, 3, SQ_DW11(1), QMEM_RING,
                                                 ST_Q(NVME_SC_INVALID_QID));
static const QueueCase sq_qid_over_max = SQ_CASE(65, 3, SQ_DW11(1), QMEM_RING,
                                                 ST_Q(NVME_SC_INVALID_QID));
static const QueueCase sq_size_one = SQ_CASE(2, 0, SQ_DW11(1), QMEM_RING,
                                             ST_Q(NVME_SC_INVALID_QSIZE));
static const QueueCase sq_size_over_mqes = SQ_CASE(2, 2048, SQ_DW11(1),
                                                   QMEM_RING,
                                                   ST_Q(NVME_SC_INVALID_QSIZE));
static const QueueCase sq_not_contiguous = SQ_CASE(
    2, 3, 1 << R_NVME_CREATE_SQ_DW11_CQID_SHIFT, QMEM_RING, ST_INVALID_FIELD);
static const QueueCase sq_mmio = SQ_CASE(2, 3, SQ_DW11(1), QMEM_MMIO,
                                         ST_DATA_XFER);
static const QueueCase sq_not_ram = SQ_CASE(2, 3, SQ_DW11(1), QMEM_NOT_RAM,
                                            ST_DATA_XFER);
#define DEL_CASE(op, qid, sc) { op, qid, 0, 0, QMEM_RING, ST_Q(sc) }
static const QueueCase del_cq_with_sq = DEL_CASE(
    NVME_ADM_DELETE_CQ, 1, NVME_SC_INVALID_QUEUE_DELETION);
static const QueueCase del_cq_missing = DEL_CASE(NVME_ADM_DELETE_CQ, 7,
                                                 NVME_SC_INVALID_QID);
static const QueueCase del_sq_missing = DEL_CASE(NVME_ADM_DELETE_SQ, 7,
                                                 NVME_SC_INVALID_QID);
static const QueueCase del_admin_cq = DEL_CASE(NVME_ADM_DELETE_CQ, 0,
                                               NVME_SC_INVALID_QID);
static const QueueCase del_admin_sq = DEL_CASE(NVME_ADM_DELETE_SQ, 0,
                                               NVME_SC_INVALID_QID);

/*
 * The command fails with the status the spec gives, nothing is created or
 * deleted, and queue pair 1 keeps working.
 */
static void test_hostile_queue(const void *data)
{
    const QueueCase *qc = data;
    QNvmeCtrl *c = qnvme_boot_io();
    uint64_t ring = qnvme_zalloc(c, 4 * QNVME_PAGE);
    NvmeSqe cmd = {
        .opcode = qc->opcode,
        .cdw10 = FIELD_DP32(qc->qid, NVME_CREATE_Q_DW10, QSIZE, qc->qsize),
        .cdw11 = qc->dw11,
    };

    switch (qc->mem) {
    case QMEM_RING:
        cmd.dptr.prp1 = ring;
        break;
    case QMEM_UNALIGNED:
        cmd.dptr.prp1 = ring + 64;
        break;
    case QMEM_MMIO:
        cmd.dptr.prp1 = qnvme_bar_addr(c);
        break;
    case QMEM_NOT_RAM:
        cmd.dptr.prp1 = QNVME_NOT_RAM;
        break;
    }
    qnvme_assert_status(qnvme_admin(c, &cmd, NULL), qc->want);
    qnvme_assert_alive(c);
    qnvme_write_pattern(c, 1, 1, 0, 8, 14);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 14);
    /* a failed Create left nothing behind: queue 2 can still be made */
    qnvme_create_ioq_pair(c, 2, QNVME_IOQ_ENTRIES);
    qnvme_assert_pattern(c, 2, 1, 0, 8, 14);
    qnvme_shutdown(c);
}

/* Commands already on a deleted SQ are posted before the Delete completes */
static void test_hostile_sq_delete_in_flight(void)
{
    /* throttled to 1 IOPS in virtual time, which only steps when we poll */
    QNvmeCtrl *c = qnvme_boot_io_with(
        "-drive if=none,id=dt,driver=null-co,read-zeroes=on,size=16M,"
        "throttling.iops-total=1 "
        "-device nvme,id=c0," QNVME_ADDR ",serial=slow,drive=dt");
    uint16_t cids[4];
    bool seen[4] = { false };
    NvmeCqe cqe;

    for (int i = 0; i < 4; i++) {
        NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, i, 1);

        io_prep_buf(c, &cmd, 512);
        cids[i] = qnvme_submit(c, 1, &cmd);
    }
    cqe = qnvme_wait_cqe(c, 1, cids[0]);
    qnvme_assert_ok(qnvme_cqe_status(&cqe));
    qnvme_assert_pending(c, 1, cids[3]);
    qnvme_assert_ok(qnvme_delete_q(c, NVME_ADM_DELETE_SQ, 1));
    /* no time passes: the entries must be there already */
    for (int n = 0; n < 3; n++) {
        g_assert_true(qnvme_cq_peek(c, 1, &cqe));
        qnvme_cq_pop(c, 1, true);
        for (int i = 1; i < 4; i++) {
            seen[i] |= cqe.cid == cids[i];
        }
        g_assert_cmpuint(cqe.sqid, ==, 1);
        if (qnvme_cqe_status(&cqe) != NVME_SC_SUCCESS) {
            qnvme_assert_status_any_dnr(qnvme_cqe_status(&cqe),
                                        QNVME_ST(NVME_SCT_GENERIC,
                                                 NVME_SC_ABORTED_SQ_DELETION));
        }
    }
    g_assert_true(seen[1] && seen[2] && seen[3]);
    g_assert_true(qnvme_cq_stays_empty(c, 1, QNVME_SHORT_US));
    qnvme_assert_ok(qnvme_delete_q(c, NVME_ADM_DELETE_CQ, 1));
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* An SQE put on a deleted SQ is never fetched; its doorbell is invalid */
static void test_hostile_io_on_deleted_sq(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1), le;
    uint16_t aer = qnvme_aer_submit(c);
    uint8_t got[512];
    uint64_t buf;
    size_t changed = 0;

    qnvme_assert_ok(qnvme_delete_q(c, NVME_ADM_DELETE_SQ, 1));
    /* not zeroes: the block it would read holds zeroes */
    buf = io_prep_buf(c, &cmd, sizeof(got));
    qtest_memset(c->qts, buf, 0xee, sizeof(got));
    cmd.cid = 0x4242;
    qnvme_sqe_to_le(&le, &cmd);
    qtest_memwrite(c->qts, c->sq[1].addr, &le, sizeof(le));
    qnvme_writel(c, qnvme_sq_db(1), 1);
    qnvme_assert_aer(c, aer, NVME_AER_TYPE_ERROR,
                     NVME_AER_INFO_ERR_INVALID_DB_REG, NVME_LOG_ERROR);
    g_assert_true(qnvme_cq_stays_empty(c, 1, QNVME_SHORT_US));
    qtest_memread(c->qts, buf, got, sizeof(got));
    for (size_t i = 0; i < sizeof(got); i++) {
        changed += got[i] != 0xee;
    }
    g_assert_cmpuint(changed, ==, 0);
    qnvme_assert_ok(qnvme_delete_q(c, NVME_ADM_DELETE_CQ, 1));
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- hostile input: data pointers --------------------------------------- */

typedef enum BadDptr {
    BAD_PRP1_MMIO,
    BAD_PRP1_NOT_RAM,
    BAD_PRP2_NOT_RAM,
    BAD_PRP2_OFFSET,
    BAD_PRP_LIST_NOT_RAM,
    BAD_PRP_ENTRY_NOT_RAM,
    BAD_PRP_ENTRY_OFFSET,
    BAD_PRP_LIST_CHAIN_ONLY,
    BAD_SGL_BIT_BUCKET,
    BAD_SGL_KEYED,
    BAD_SGL_SHORT,
    BAD_SGL_LONG,
    BAD_SGL_SEGMENT_NOT_LAST,
    BAD_SGL_SEGMENT_IN_LAST,
    BAD_SGL_DATA_MMIO,
    BAD_SGL_DATA_NOT_RAM,
    BAD_SGL_SEGMENT_NOT_RAM,
    BAD_PSDT_RESERVED,
} BadDptr;

#define BAD_LEN     (16 * KiB)

/* A PRP list of the pages of @buf, entry @bad (-1: none) set to @value */
static uint64_t bad_prp_list(QNvmeCtrl *c, uint64_t buf, int bad,
                             uint64_t value)
{
    uint64_t list = qnvme_zalloc(c, QNVME_PAGE), ents[3];

    for (int i = 0; i < 3; i++) {
        ents[i] = cpu_to_le64(i == bad ? value : buf + (i + 1) * QNVME_PAGE);
    }
    qtest_memwrite(c->qts, list, ents, sizeof(ents));
    return list;
}

/* SGL segment with @n descriptors, the SQE pointing at it as @type */
static void bad_sgl_segment(QNvmeCtrl *c, NvmeSqe *cmd, uint8_t type,
                            const NvmeSgl *descs, int n)
{
    qnvme_set_sgl(cmd, sgl_segment(c, descs, n), n * sizeof(NvmeSgl), type);
}

/* Make a BAD_LEN read's data pointer bad as @kind says; return the status */
static uint16_t bad_dptr_setup(QNvmeCtrl *c, NvmeSqe *cmd, BadDptr kind,
                               uint64_t buf)
{
    uint64_t page = buf + QNVME_PAGE;
    uint64_t list, next;
    NvmeSgl d[2];

    qnvme_set_prps(c, cmd, buf, BAD_LEN);
    switch (kind) {
    case BAD_PRP1_MMIO:
        cmd->dptr.prp1 = qnvme_bar_addr(c);
        return ST_DATA_XFER;
    case BAD_PRP1_NOT_RAM:
        cmd->dptr.prp1 = QNVME_NOT_RAM;
        return ST_DATA_XFER;
    case BAD_PRP2_NOT_RAM:          /* two pages: PRP2 is the second */
        cmd->cdw12 = 8 * KiB / 512 - 1;
        cmd->dptr.prp2 = QNVME_NOT_RAM;
        return ST_DATA_XFER;
    case BAD_PRP2_OFFSET:
        cmd->cdw12 = 8 * KiB / 512 - 1;
        cmd->dptr.prp2 = page + 0x200;
        return QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID);
    case BAD_PRP_LIST_NOT_RAM:
        cmd->dptr.prp2 = QNVME_NOT_RAM;
        return ST_DATA_XFER;
    case BAD_PRP_ENTRY_NOT_RAM:
        cmd->dptr.prp2 = bad_prp_list(c, buf, 1, QNVME_NOT_RAM);
        return ST_DATA_XFER;
    case BAD_PRP_ENTRY_OFFSET:
        cmd->dptr.prp2 = bad_prp_list(c, buf, 1, buf + 2 * QNVME_PAGE + 0x100);
        return QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID);
    case BAD_PRP_LIST_CHAIN_ONLY:   /* PRP2 on a page's last entry */
        list = qnvme_zalloc(c, QNVME_PAGE) + QNVME_PAGE - 8;
        next = cpu_to_le64(bad_prp_list(c, buf, -1, 0));
        qtest_memwrite(c->qts, list, &next, sizeof(next));
        cmd->dptr.prp2 = list;
        return QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID);
    case BAD_SGL_BIT_BUCKET:
        qnvme_set_sgl(cmd, buf, BAD_LEN, NVME_SGL_BIT_BUCKET);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_SGL_TYPE_INVALID);
    case BAD_SGL_KEYED:
        qnvme_set_sgl(cmd, buf, BAD_LEN, NVME_SGL_KEYED_DATA);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_SGL_TYPE_INVALID);
    case BAD_SGL_SHORT:
        qnvme_set_sgl(cmd, buf, BAD_LEN - 512, NVME_SGL_DATA_BLOCK);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH);
    case BAD_SGL_LONG:              /* SGLS bit 18 clear: no excess length */
        qnvme_set_sgl(cmd, buf, BAD_LEN + 512, NVME_SGL_DATA_BLOCK);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH);
    case BAD_SGL_SEGMENT_NOT_LAST:  /* a segment descriptor, then data */
        d[0] = qnvme_sgl(buf, BAD_LEN, NVME_SGL_SEGMENT);
        d[1] = qnvme_sgl(buf, BAD_LEN, NVME_SGL_DATA_BLOCK);
        bad_sgl_segment(c, cmd, NVME_SGL_SEGMENT, d, 2);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_INVALID_SGL_SEGMENT);
    case BAD_SGL_SEGMENT_IN_LAST:   /* a Last Segment that chains on */
        d[0] = qnvme_sgl(buf, BAD_LEN / 2, NVME_SGL_DATA_BLOCK);
        d[1] = qnvme_sgl(page, 16, NVME_SGL_LAST_SEGMENT);
        bad_sgl_segment(c, cmd, NVME_SGL_LAST_SEGMENT, d, 2);
        return QNVME_ST(NVME_SCT_GENERIC, NVME_SC_INVALID_SGL_SEGMENT);
    case BAD_SGL_DATA_MMIO:
        qnvme_set_sgl(cmd, qnvme_bar_addr(c), BAD_LEN, NVME_SGL_DATA_BLOCK);
        return ST_DATA_XFER;
    case BAD_SGL_DATA_NOT_RAM:
        qnvme_set_sgl(cmd, QNVME_NOT_RAM, BAD_LEN, NVME_SGL_DATA_BLOCK);
        return ST_DATA_XFER;
    case BAD_SGL_SEGMENT_NOT_RAM:
        qnvme_set_sgl(cmd, QNVME_NOT_RAM, 2 * sizeof(NvmeSgl),
                      NVME_SGL_LAST_SEGMENT);
        return ST_DATA_XFER;
    case BAD_PSDT_RESERVED:
        cmd->flags |= 3 << 6;
        return ST_INVALID_FIELD;
    }
    g_assert_not_reached();
}

/* The read fails as the spec says, nothing lands in guest memory */
static void test_hostile_dptr(const void *data)
{
    BadDptr kind = GPOINTER_TO_INT(data);
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, BAD_LEN / 512);
    uint64_t buf = qnvme_alloc(c, BAD_LEN);
    g_autofree uint8_t *got = g_malloc(BAD_LEN);
    uint32_t cc = qnvme_readl(c, A_NVME_CC);
    size_t changed = 0;
    uint16_t want;

    qnvme_write_pattern(c, 1, 1, 0, BAD_LEN / 512, 15);
    qtest_memset(c->qts, buf, 0xee, BAD_LEN);
    want = bad_dptr_setup(c, &cmd, kind, buf);
    if (NVME_STATUS_SC(want) == NVME_SC_INVALID_FIELD ||
        NVME_STATUS_SC(want) == NVME_SC_PRP_OFFSET_INVALID ||
        NVME_STATUS_SC(want) == NVME_SC_DATA_TRANSFER_ERROR) {
        qnvme_assert_status(io_exec(c, &cmd), want);
    } else {
        qnvme_assert_status_any_dnr(io_exec(c, &cmd), want);
    }
    /* the good parts of the data pointer got none of the data either */
    qtest_bufread(c->qts, buf, got, BAD_LEN);
    for (size_t i = 0; i < BAD_LEN; i++) {
        changed += got[i] != 0xee;
    }
    g_assert_cmpuint(changed, ==, 0);
    /* the registers were no target either */
    g_assert_cmphex(qnvme_readl(c, A_NVME_CC), ==, cc);
    qnvme_assert_alive(c);
    qnvme_assert_pattern(c, 1, 1, 0, BAD_LEN / 512, 15);
    qnvme_shutdown(c);
}

/* Admin commands take PRPs only over PCIe (base 4.1.1); PSDT 11b reserved */
static void test_hostile_admin_sgl(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();
    uint64_t buf = qnvme_zalloc(c, NVME_IDENTIFY_SIZE);
    NvmeSqe cmd = { .opcode = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };

    qnvme_set_sgl(&cmd, buf, NVME_IDENTIFY_SIZE, NVME_SGL_DATA_BLOCK);
    qnvme_assert_status(qnvme_admin(c, &cmd, NULL), ST_INVALID_FIELD);
    cmd.flags = 3 << 6;
    cmd.dptr.prp1 = buf;
    cmd.dptr.prp2 = 0;
    qnvme_assert_status(qnvme_admin(c, &cmd, NULL), ST_INVALID_FIELD);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* sgl=off: SGLS 0, and an I/O command with an SGL is refused */
static void test_hostile_sgl_disabled(void)
{
    QNvmeCtrl *c = qnvme_boot_io_with("-device nvme," QNVME_ADDR
                                      ",serial=nosgl,drive=d0,sgl=off");
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, 1, 0, 1);

    qnvme_set_sgl(&cmd, qnvme_zalloc(c, 512), 512, NVME_SGL_DATA_BLOCK);
    qnvme_assert_status(io_exec(c, &cmd), ST_INVALID_FIELD);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- hostile input: commands -------------------------------------------- */

/* Ranges past the end, also where SLBA + NLB wraps around 2^64 */
static void test_hostile_lba_out_of_range(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t data[1024] = { 0 };

    qnvme_assert_ok(qnvme_read_blocks(c, 1, 1, QNVME_NLBAS0 - 1, 1));
    qnvme_assert_status(qnvme_read_blocks(c, 1, 1, QNVME_NLBAS0, 1),
                        ST_LBA_RANGE);
    qnvme_assert_status(qnvme_read_blocks(c, 1, 1, QNVME_NLBAS0 - 1, 2),
                        ST_LBA_RANGE);
    qnvme_assert_status(qnvme_read_blocks(c, 1, 1, UINT64_MAX, 1),
                        ST_LBA_RANGE);
    qnvme_assert_status(qnvme_read_blocks(c, 1, 1, UINT64_MAX, 2),
                        ST_LBA_RANGE);
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_WRITE, 1, UINT64_MAX, 2,
                                    data, sizeof(data)), ST_LBA_RANGE);
    qnvme_assert_status(no_data_cmd(c, NVME_IO_WRITE_ZEROES, 1, UINT64_MAX, 2,
                                    0), ST_LBA_RANGE);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

typedef struct NsidCase {
    uint32_t nsid;
    uint16_t want;
} NsidCase;

static const NsidCase nsid_zero = { 0, ST_INVALID_NSID };
static const NsidCase nsid_over_nn = { 1025, ST_INVALID_NSID };
static const NsidCase nsid_broadcast = { NVME_NSID_BROADCAST, ST_INVALID_NSID };
/* base 3.2.1.4: a valid NSID that is not active is an invalid field */
static const NsidCase nsid_inactive = { 2, ST_INVALID_FIELD };

/* Read, Write and Write Zeroes all refuse the NSID; Flush too but FFFFFFFFh */
static void test_hostile_nsid(const void *data)
{
    const NsidCase *nc = data;
    QNvmeCtrl *c = qnvme_boot_io();
    uint8_t buf[512] = { 0 };
    uint16_t flush_want = nc->nsid == NVME_NSID_BROADCAST ? NVME_SC_SUCCESS
                                                          : nc->want;

    qnvme_assert_status(qnvme_read_blocks(c, 1, nc->nsid, 0, 1), nc->want);
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_WRITE, nc->nsid, 0, 1, buf,
                                    sizeof(buf)), nc->want);
    qnvme_assert_status(no_data_cmd(c, NVME_IO_WRITE_ZEROES, nc->nsid, 0, 1,
                                    0), nc->want);
    qnvme_assert_status(no_data_cmd(c, NVME_IO_FLUSH, nc->nsid, 0, 1, 0),
                        flush_want);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* MDTS 7: 512 KiB is the most one command moves (base 5.17.2.2) */
static void test_hostile_over_mdts(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    size_t max = 512 * KiB;
    g_autofree uint8_t *data = g_malloc0(max + 512);

    qnvme_assert_ok(qnvme_read_blocks(c, 1, 1, 0, max / 512));
    qnvme_assert_status(qnvme_read_blocks(c, 1, 1, 0, max / 512 + 1),
                        ST_INVALID_FIELD);
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_WRITE, 1, 0, max / 512 + 1,
                                    data, max + 512), ST_INVALID_FIELD);
    qnvme_assert_status(qnvme_write(c, 1, NVME_IO_COMPARE, 1, 0, max / 512 + 1,
                                    data, max + 512), ST_INVALID_FIELD);
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/*
 * Every opcode the Commands Supported and Effects log leaves out is an
 * Invalid Command Opcode, and the reserved ones are among them.
 */
static void test_hostile_reserved_opcodes(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    g_autofree NvmeEffectsLog *log = g_new(NvmeEffectsLog, 1);

    qnvme_read_log(c, NVME_LOG_CMD_EFFECTS, log, sizeof(*log));
    g_assert_cmphex(le32_to_cpu(log->acs[0x03]), ==, 0);
    g_assert_cmphex(le32_to_cpu(log->acs[0x07]), ==, 0);
    g_assert_cmphex(le32_to_cpu(log->iocs[0x03]), ==, 0);
    g_assert_cmphex(le32_to_cpu(log->iocs[0x7f]), ==, 0);
    for (int op = 0; op < 256; op++) {
        NvmeSqe adm = { .opcode = op };
        NvmeSqe io = { .opcode = op, .nsid = 1 };

        if (!(le32_to_cpu(log->acs[op]) & NVME_EFF_CSUPP)) {
            qnvme_assert_status(qnvme_admin(c, &adm, NULL), ST_INVALID_OPCODE);
        }
        if (!(le32_to_cpu(log->iocs[op]) & NVME_EFF_CSUPP)) {
            qnvme_assert_status(io_exec(c, &io), ST_INVALID_OPCODE);
        }
    }
    qnvme_assert_alive(c);
    qnvme_write_pattern(c, 1, 1, 0, 8, 16);
    qnvme_assert_pattern(c, 1, 1, 0, 8, 16);
    qnvme_shutdown(c);
}

/* No fused operations (FUSES 0): FUSE 01b or 10b is an invalid field */
static void test_hostile_fuse(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    g_assert_cmphex(le16_to_cpu(id.fuses), ==, 0);
    for (uint8_t fuse = 1; fuse <= 2; fuse++) {
        NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_COMPARE, 1, 0, 1);
        NvmeSqe adm = { .opcode = NVME_ADM_IDENTIFY, .flags = fuse,
                        .cdw10 = NVME_CNS_CTRL };

        io_prep_buf(c, &cmd, 512);
        cmd.flags = fuse;
        qnvme_assert_status(io_exec(c, &cmd), ST_INVALID_FIELD);
        adm.dptr.prp1 = qnvme_zalloc(c, NVME_IDENTIFY_SIZE);
        qnvme_assert_status(qnvme_admin(c, &adm, NULL), ST_INVALID_FIELD);
    }
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- the list of tests -------------------------------------------------- */

typedef struct TestCase {
    const char *name;
    void (*fn)(void);
} TestCase;

typedef struct DataCase {
    const char *name;
    void (*fn)(const void *);
    const void *data;
} DataCase;

static const TestCase tests[] = {
    { "regs/reset-values", test_regs_reset_values },
    { "regs/read-only", test_regs_read_only },
    { "regs/mqes-property", test_regs_mqes_property },
    { "ctrl/enable", test_ctrl_enable },
    { "ctrl/disable", test_ctrl_disable },
    { "ctrl/reset-frees-queues", test_ctrl_reset_frees_queues },
    { "ctrl/shutdown-normal", test_ctrl_shutdown_normal },
    { "ctrl/shutdown-abrupt", test_ctrl_shutdown_abrupt },
    { "identify/ctrl", test_identify_ctrl },
    { "identify/ctrl-properties", test_identify_ctrl_properties },
    { "identify/ns", test_identify_ns },
    { "identify/ns-4k", test_identify_ns_4k },
    { "identify/ns-inactive", test_identify_ns_inactive },
    { "identify/active-ns-list", test_identify_active_ns_list },
    { "identify/ns-descriptors", test_identify_ns_descriptors },
    { "identify/cns06-nvm-ctrl", test_identify_cns06_nvm_ctrl },
    { "identify/cns08-indep-ns", test_identify_cns08_indep_ns },
    { "identify/cns1c-io-cmd-sets", test_identify_cns1c_io_cmd_sets },
    { "identify/reserved-cns", test_identify_reserved_cns },
    { "log/supported-pages", test_log_supported_pages },
    { "log/supported-match-get-log", test_log_supported_match_get_log },
    { "log/error-entry", test_log_error_entry },
    { "log/smart-counters", test_log_smart_counters },
    { "log/smart-compare-is-read", test_log_smart_compare_is_read },
    { "log/smart-temperature", test_log_smart_temperature },
    { "log/smart-nsid", test_log_smart_nsid },
    { "log/fw-slot", test_log_fw_slot },
    { "log/changed-ns", test_log_changed_ns },
    { "log/offset", test_log_offset },
    { "log/cmd-effects", test_log_cmd_effects },
    { "features/num-queues", test_features_num_queues },
    { "features/num-queues-limit-create",
      test_features_num_queues_limit_create },
    { "features/num-queues-after-create",
      test_features_num_queues_after_create },
    { "features/vwc", test_features_vwc },
    { "features/select", test_features_select },
    { "features/timestamp", test_features_timestamp },
    { "features/temp-threshold", test_features_temp_threshold },
    { "features/save-refused", test_features_save_refused },
    { "features/unknown-fid", test_features_unknown_fid },
    { "features/not-ns-specific", test_features_not_ns_specific },
    { "aer/limit", test_aer_limit },
    { "aer/smart-temp-rise", test_aer_smart_temp_rise },
    { "aer/smart-threshold-lowered", test_aer_smart_threshold_lowered },
    { "aer/smart-temp-disabled", test_aer_smart_temp_disabled },
    { "aer/smart-rearm", test_aer_smart_rearm },
    { "aer/abort", test_aer_abort },
    { "data/prp1-only", test_data_prp1_only },
    { "data/prp1-prp2", test_data_prp1_prp2 },
    { "data/prp1-offset-prp2", test_data_prp1_offset_prp2 },
    { "data/prp-list", test_data_prp_list },
    { "data/prp-list-offset", test_data_prp_list_offset },
    { "data/prp-list-chained", test_data_prp_list_chained },
    { "data/prp-list-mps-64k", test_data_prp_list_mps_64k },
    { "data/sgl-data-block", test_data_sgl_data_block },
    { "data/sgl-segment-chain", test_data_sgl_segment_chain },
    { "data/sgl-last-segment", test_data_sgl_last_segment },
    { "data/sgl-long-segment", test_data_sgl_long_segment },
    { "io/write-zeroes", test_io_write_zeroes },
    { "io/dsm-deallocate", test_io_dsm_deallocate },
    { "io/compare-match", test_io_compare_match },
    { "io/compare-mismatch", test_io_compare_mismatch },
    { "io/verify", test_io_verify },
    { "io/flush", test_io_flush },
    { "io/two-queue-pairs", test_io_two_queue_pairs },
    { "admin/format-lbaf", test_admin_format_lbaf },
    { "admin/format-invalid", test_admin_format_invalid },
    { "irq/msix", test_irq_msix },
    { "irq/intx", test_irq_intx },
    { "irq/intx-mask", test_irq_intx_mask },
    { "irq/disabled-cq", test_irq_disabled_cq },
    { "hostile/doorbell/event-queued", test_hostile_doorbell_event_queued },
    { "hostile/queue/sq-delete-in-flight", test_hostile_sq_delete_in_flight },
    { "hostile/queue/io-on-deleted-sq", test_hostile_io_on_deleted_sq },
    { "hostile/dptr/admin-sgl", test_hostile_admin_sgl },
    { "hostile/dptr/sgl-disabled", test_hostile_sgl_disabled },
    { "hostile/lba-out-of-range", test_hostile_lba_out_of_range },
    { "hostile/over-mdts", test_hostile_over_mdts },
    { "hostile/reserved-opcodes", test_hostile_reserved_opcodes },
    { "hostile/fuse", test_hostile_fuse },
};

#define CFS(name, kind) \
    { "ctrl/cfs/" name, test_ctrl_cfs, GINT_TO_POINTER(kind) }
#define DB(name) \
    { "hostile/doorbell/" #name, test_hostile_doorbell, &db_##name }
#define Q(name) { "hostile/queue/" #name, test_hostile_queue, &name }
#define DPTR(name, kind) \
    { "hostile/dptr/" name, test_hostile_dptr, GINT_TO_POINTER(kind) }
#define NSID(name) { "hostile/nsid/" #name, test_hostile_nsid, &nsid_##name }

static const DataCase data_tests[] = {
    CFS("aqa-one-entry", CFS_AQA_ONE_ENTRY),
    CFS("asq-zero", CFS_ASQ_ZERO),
    CFS("acq-zero", CFS_ACQ_ZERO),
    CFS("asq-unaligned", CFS_ASQ_UNALIGNED),
    CFS("acq-not-ram", CFS_ACQ_NOT_RAM),
    CFS("asq-mmio", CFS_ASQ_MMIO),
    CFS("mps-unsupported", CFS_MPS_UNSUPPORTED),
    CFS("css-reserved", CFS_CSS_RESERVED),
    DB(sq_missing),
    DB(cq_missing),
    DB(beyond_queues),
    DB(sq_tail_too_big),
    DB(cq_head_too_big),
    DB(cq_head_unposted),
    DB(admin_tail_too_big),
    Q(cq_qid_zero),
    Q(cq_qid_over_max),
    Q(cq_qid_existing),
    Q(cq_size_one),
    Q(cq_size_over_mqes),
    Q(cq_vector_over),
    Q(cq_not_contiguous),
    Q(cq_unaligned),
    Q(cq_mmio),
    Q(cq_not_ram),
    Q(sq_cq_missing),
    Q(sq_cq_admin),
    Q(sq_qid_zero),
    Q(sq_qid_existing),
    Q(sq_qid_over_max),
    Q(sq_size_one),
    Q(sq_size_over_mqes),
    Q(sq_not_contiguous),
    Q(sq_mmio),
    Q(sq_not_ram),
    Q(del_cq_with_sq),
    Q(del_cq_missing),
    Q(del_sq_missing),
    Q(del_admin_cq),
    Q(del_admin_sq),
    DPTR("prp1-mmio", BAD_PRP1_MMIO),
    DPTR("prp1-not-ram", BAD_PRP1_NOT_RAM),
    DPTR("prp2-not-ram", BAD_PRP2_NOT_RAM),
    DPTR("prp2-offset", BAD_PRP2_OFFSET),
    DPTR("prp-list-not-ram", BAD_PRP_LIST_NOT_RAM),
    DPTR("prp-entry-not-ram", BAD_PRP_ENTRY_NOT_RAM),
    DPTR("prp-entry-offset", BAD_PRP_ENTRY_OFFSET),
    DPTR("prp-list-chain-only", BAD_PRP_LIST_CHAIN_ONLY),
    DPTR("sgl-bit-bucket", BAD_SGL_BIT_BUCKET),
    DPTR("sgl-keyed", BAD_SGL_KEYED),
    DPTR("sgl-short", BAD_SGL_SHORT),
    DPTR("sgl-long", BAD_SGL_LONG),
    DPTR("sgl-segment-not-last", BAD_SGL_SEGMENT_NOT_LAST),
    DPTR("sgl-segment-in-last", BAD_SGL_SEGMENT_IN_LAST),
    DPTR("sgl-data-mmio", BAD_SGL_DATA_MMIO),
    DPTR("sgl-data-not-ram", BAD_SGL_DATA_NOT_RAM),
    DPTR("sgl-segment-not-ram", BAD_SGL_SEGMENT_NOT_RAM),
    DPTR("psdt-reserved", BAD_PSDT_RESERVED),
    NSID(zero),
    NSID(over_nn),
    NSID(broadcast),
    NSID(inactive),
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /*
     * A failed check fails its test and the run goes on, so that one device
     * bug does not hide the results of the tests after it.
     */
    g_test_set_nonfatal_assertions();
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("nvme/%s", tests[i].name);

        qtest_add_func(path, tests[i].fn);
    }
    for (int i = 0; i < ARRAY_SIZE(data_tests); i++) {
        g_autofree char *path = g_strdup_printf("nvme/%s", data_tests[i].name);

        /* the case tables' C names, hyphenated like the other names */
        g_strdelimit(path, "_", '-');
        qtest_add_data_func(path, data_tests[i].data, data_tests[i].fn);
    }
    return g_test_run();
}
