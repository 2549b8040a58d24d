/*
 * qtests of our NVMe controller's admin commands: Identify, Get Log Page,
 * Get and Set Features, Asynchronous Event Request and Abort, Format NVM.
 * Each test boots a q35 machine, drives the controller as a host driver
 * would (libqos/nvme.c) and checks one behaviour against the NVM Express
 * Base Specification 2.0 ("base").
 *
 * Map: Identify, log pages, features, asynchronous events, Format NVM, and
 * main() with the list of tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/nvme.h"
#include "standard-headers/linux/pci_regs.h"

/* Status values as the CQE carries them (without the phase tag) */
#define ST_INVALID_FIELD    QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_INVALID_FIELD)
#define ST_INVALID_NSID     QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NSID)
#define ST_LBA_RANGE        QNVME_ST_DNR(NVME_SCT_GENERIC, \
                                         NVME_SC_LBA_OUT_OF_RANGE)
#define ST_CMD(sc)          QNVME_ST(NVME_SCT_CMD_SPECIFIC, sc)

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

    qnvme_prp_zbuf(c, &cmd, 512);
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

/*
 * The write cache's default is the drive's: with drive= and write-cache=off
 * it starts, and after a reset returns, disabled
 */
static void test_features_vwc_drive_off(void)
{
    QNvmeCtrl *c = qnvme_boot("-device nvme,id=c0," QNVME_ADDR
                              ",serial=wc,drive=d0,write-cache=off");

    qnvme_enable(c);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_CURRENT, 0),
                     ==, 0);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_DEFAULT, 0),
                     ==, 0);
    qnvme_set_feature(c, NVME_FEAT_VOLATILE_WC, 1);
    qnvme_disable(c);
    qnvme_enable(c);
    g_assert_cmpuint(get_feature(c, NVME_FEAT_VOLATILE_WC, NVME_SEL_CURRENT, 0),
                     ==, 0);
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

/* ---- Format NVM (base 5.23) --------------------------------------------- */

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
    qnvme_assert_status(qnvme_io_nodata(c, 1, NVME_IO_VERIFY, 1,
                                        QNVME_NLBAS0 / 8, 1), ST_LBA_RANGE);
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

/* ---- the list of tests -------------------------------------------------- */

static const QNvmeTest tests[] = {
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
    { "features/vwc-drive-off", test_features_vwc_drive_off },
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
    { "admin/format-lbaf", test_admin_format_lbaf },
    { "admin/format-invalid", test_admin_format_invalid },
};

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme", tests, ARRAY_SIZE(tests));
    return g_test_run();
}
