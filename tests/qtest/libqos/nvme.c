/*
 * libqos NVMe host driver (qnvme_): see nvme.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "../libqtest.h"
#include "libqos-pc.h"
#include "standard-headers/linux/pci_regs.h"
#include "nvme.h"

#define QNVME_FIRMWARE_DEFAULT  "/usr/share/seabios:/usr/share/qemu"

/* ---- boot and teardown -------------------------------------------------- */

char *qnvme_make_image(uint64_t size)
{
    GError *err = NULL;
    char *path;
    int fd = g_file_open_tmp("qtest-nvme-XXXXXX.raw", &path, &err);

    g_assert_no_error(err);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

char *qnvme_firmware_args(void)
{
    const char *env = g_getenv("QNVME_FIRMWARE");
    g_auto(GStrv) dirs = g_strsplit(env ? env : QNVME_FIRMWARE_DEFAULT, ":", 0);
    GString *args = g_string_new("");

    for (int i = 0; dirs[i]; i++) {
        if (*dirs[i] && g_file_test(dirs[i], G_FILE_TEST_IS_DIR)) {
            g_string_append_printf(args, "-L %s ", dirs[i]);
        }
    }
    return g_string_free(args, false);
}

void qnvme_probe(QNvmeCtrl *c, int slot)
{
    c->pdev = qpci_device_find(c->qs->pcibus, QPCI_DEVFN(slot, 0));
    g_assert(c->pdev);
    g_assert_cmphex(qpci_config_readw(c->pdev, PCI_VENDOR_ID), ==, 0x1b36);
    g_assert_cmphex(qpci_config_readw(c->pdev, PCI_DEVICE_ID), ==, 0x0010);
    qpci_device_enable(c->pdev);
    c->bar = qpci_iomap(c->pdev, 0, &c->bar_size);
    c->next_cid = 1;
    c->page_size = QNVME_PAGE;
}

bool qnvme_iothread_mode(void)
{
    const char *env = g_getenv("QNVME_IOTHREAD");

    return env && *env && strcmp(env, "0");
}

/*
 * QNVME_IOTHREAD=1: every controller of the command line that names no
 * iothread of its own runs in one (iothread=), so that the same tests
 * drive that mode; ioeventfd=on, refused with an iothread, is dropped.
 */
static char *qnvme_iothread_devs(const char *devs)
{
    g_auto(GStrv) parts = NULL;
    g_autofree char *stripped = NULL;
    GString *out;

    if (!qnvme_iothread_mode()) {
        return g_strdup(devs);
    }
    parts = g_strsplit(devs, ",ioeventfd=on", -1);
    stripped = g_strjoinv("", parts);
    g_strfreev(parts);
    parts = g_strsplit(stripped, "-device nvme,", -1);
    out = g_string_new("-object iothread,id=" QNVME_IOTHREAD_ID " ");
    g_string_append(out, parts[0]);
    for (int i = 1; parts[i]; i++) {
        const char *end = strstr(parts[i], " -");
        size_t opts = end ? end - parts[i] : strlen(parts[i]);
        g_autofree char *own = g_strndup(parts[i], opts);

        g_string_append(out, "-device nvme,");
        if (!strstr(own, "iothread=")) {
            g_string_append(out, "iothread=" QNVME_IOTHREAD_ID ",");
        }
        g_string_append(out, parts[i]);
    }
    return g_string_free(out, false);
}

QNvmeCtrl *qnvme_boot_machine(const char *machine, const char *devs_in)
{
    QNvmeCtrl *c = g_new0(QNvmeCtrl, 1);
    g_autofree char *firmware = qnvme_firmware_args();
    g_autofree char *devs = qnvme_iothread_devs(devs_in);

    c->img[0] = qnvme_make_image(QNVME_IMG0_SIZE);
    c->img[1] = qnvme_make_image(QNVME_IMG1_SIZE);
    c->qs = qtest_pc_boot("-machine %s -nodefaults %s"
                          "-drive if=none,id=d0,file=%s,format=raw "
                          "-drive if=none,id=d1,file=%s,format=raw %s",
                          machine, firmware, c->img[0], c->img[1], devs);
    c->qts = c->qs->qts;
    qnvme_probe(c, QNVME_SLOT);
    return c;
}

QNvmeCtrl *qnvme_boot(const char *fmt, ...)
{
    g_autofree char *devs = NULL;
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        devs = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    } else {
        devs = g_strdup(QNVME_DEFAULT_DEV);
    }
    return qnvme_boot_machine("q35", devs);
}

QNvmeCtrl *qnvme_attach(QNvmeCtrl *first, int slot)
{
    QNvmeCtrl *c = g_new0(QNvmeCtrl, 1);

    c->qs = first->qs;
    c->qts = first->qts;
    c->shares_qs = true;
    qnvme_probe(c, slot);
    return c;
}

void qnvme_shutdown(QNvmeCtrl *c)
{
    int i;

    g_free(c->pdev);
    if (c->shares_qs) {
        g_free(c);
        return;
    }
    qtest_shutdown(c->qs);
    for (i = 0; i < 2; i++) {
        unlink(c->img[i]);
        g_free(c->img[i]);
    }
    g_free(c);
}

uint64_t qnvme_alloc(QNvmeCtrl *c, size_t size)
{
    return guest_alloc(&c->qs->alloc, size);
}

uint64_t qnvme_zalloc(QNvmeCtrl *c, size_t size)
{
    uint64_t addr = guest_alloc(&c->qs->alloc, size);

    qtest_memset(c->qts, addr, 0, size);
    return addr;
}

uint64_t qnvme_alloc_aligned(QNvmeCtrl *c, size_t size, uint64_t align)
{
    uint64_t addr = guest_alloc(&c->qs->alloc, size + align - QNVME_PAGE);

    return ROUND_UP(addr, align);
}

uint64_t qnvme_page_zalloc(QNvmeCtrl *c, size_t size)
{
    uint64_t addr = qnvme_alloc_aligned(c, size, c->page_size);

    qtest_memset(c->qts, addr, 0, size);
    return addr;
}

/* ---- registers and doorbells -------------------------------------------- */

uint32_t qnvme_readl(QNvmeCtrl *c, uint64_t off)
{
    return qpci_io_readl(c->pdev, c->bar, off);
}

void qnvme_writel(QNvmeCtrl *c, uint64_t off, uint32_t val)
{
    qpci_io_writel(c->pdev, c->bar, off, val);
}

uint64_t qnvme_bar_addr(QNvmeCtrl *c)
{
    return c->bar.addr;
}

uint64_t qnvme_readq(QNvmeCtrl *c, uint64_t off)
{
    uint64_t lo = qnvme_readl(c, off);

    return lo | ((uint64_t)qnvme_readl(c, off + 4) << 32);
}

void qnvme_writeq(QNvmeCtrl *c, uint64_t off, uint64_t val)
{
    qnvme_writel(c, off, (uint32_t)val);
    qnvme_writel(c, off + 4, val >> 32);
}

uint64_t qnvme_sq_db(uint16_t qid)
{
    return NVME_REG_SIZE + (2 * (uint64_t)qid) * 4;
}

uint64_t qnvme_cq_db(uint16_t qid)
{
    return NVME_REG_SIZE + (2 * (uint64_t)qid + 1) * 4;
}

void qnvme_ring(QNvmeCtrl *c, uint64_t db_off, uint32_t val)
{
    if (c->dbbuf_dbs) {
        uint32_t le = cpu_to_le32(val);

        qtest_memwrite(c->qts, c->dbbuf_dbs + db_off - NVME_REG_SIZE, &le, 4);
    }
    qnvme_writel(c, db_off, val);
    /*
     * With iothread= a doorbell write is handed to the iothread and the
     * writer goes on; a register read behind it (as a PCI read flushes
     * posted writes) makes the controller take it first, so that what the
     * test does next (a clock step, a reset) comes after the fetch.
     */
    if (qnvme_iothread_mode()) {
        qnvme_readl(c, A_NVME_CSTS);
    }
}

bool qnvme_wait_reg(QNvmeCtrl *c, uint64_t off, uint32_t mask, uint32_t want)
{
    gint64 deadline = g_get_monotonic_time() + QNVME_TIMEOUT_US;

    while ((qnvme_readl(c, off) & mask) != want) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        qtest_clock_step(c->qts, 1000 * 1000);
    }
    return true;
}

/* ---- controller enable / disable ---------------------------------------- */

void qnvme_reset_driver_queues(QNvmeCtrl *c)
{
    int i;

    for (i = 1; i <= QNVME_MAX_QID; i++) {
        c->sq[i].live = false;
        c->cq[i].live = false;
    }
    memset(c->stash, 0, sizeof(c->stash));
    c->dbbuf_dbs = 0;
}

void qnvme_setup_admin_queues(QNvmeCtrl *c)
{
    QNvmeQueue *sq = &c->sq[0], *cq = &c->cq[0];

    if (!sq->addr || ((sq->addr | cq->addr) & (c->page_size - 1))) {
        sq->addr = qnvme_alloc_aligned(c, QNVME_AQ_ENTRIES * sizeof(NvmeSqe),
                                       c->page_size);
        cq->addr = qnvme_alloc_aligned(c, QNVME_AQ_ENTRIES * sizeof(NvmeCqe),
                                       c->page_size);
    }
    qtest_memset(c->qts, cq->addr, 0, QNVME_AQ_ENTRIES * sizeof(NvmeCqe));
    sq->entries = cq->entries = QNVME_AQ_ENTRIES;
    sq->ptr = cq->ptr = 0;
    sq->cqid = 0;
    cq->phase = true;
    sq->live = cq->live = true;
    qnvme_writel(c, A_NVME_AQA,
                 ((QNVME_AQ_ENTRIES - 1) << R_NVME_AQA_ACQS_SHIFT) |
                 (QNVME_AQ_ENTRIES - 1));
    qnvme_writeq(c, A_NVME_ASQ, sq->addr);
    qnvme_writeq(c, A_NVME_ACQ, cq->addr);
}

void qnvme_enable_cc(QNvmeCtrl *c, uint32_t cc)
{
    c->page_size = QNVME_PAGE << FIELD_EX32(cc, NVME_CC, MPS);
    qnvme_reset_driver_queues(c);
    qnvme_setup_admin_queues(c);
    qnvme_writel(c, A_NVME_CC, cc);
    if (!qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK,
                        R_NVME_CSTS_RDY_MASK)) {
        qnvme_fail("nvme: CSTS.RDY stays 0 after CC.EN = 1");
        c->dead = true;
    }
    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_CFS_MASK, ==, 0);
}

void qnvme_enable(QNvmeCtrl *c)
{
    qnvme_enable_cc(c, QNVME_CC_DEFAULT);
}

void qnvme_disable(QNvmeCtrl *c)
{
    qnvme_writel(c, A_NVME_CC, 0);
    if (!qnvme_wait_reg(c, A_NVME_CSTS, R_NVME_CSTS_RDY_MASK, 0)) {
        qnvme_fail("nvme: CSTS.RDY stays 1 after CC.EN = 0");
        c->dead = true;
    }
    qnvme_reset_driver_queues(c);
    c->sq[0].live = c->cq[0].live = false;
}

QNvmeCtrl *qnvme_boot_enabled(void)
{
    QNvmeCtrl *c = qnvme_boot(NULL);

    qnvme_enable(c);
    return c;
}

void qnvme_msix_enable(QNvmeCtrl *c)
{
    qpci_msix_enable(c->pdev);
    c->bar.addr = qpci_config_readl(c->pdev, PCI_BASE_ADDRESS_0) &
                  PCI_BASE_ADDRESS_MEM_MASK;
    c->bar.addr |= (uint64_t)qpci_config_readl(c->pdev,
                                               PCI_BASE_ADDRESS_1) << 32;
    c->msix = true;
}

/* ---- submission and completion ------------------------------------------ */

void qnvme_sqe_to_le(NvmeSqe *le, const NvmeSqe *cmd)
{
    *le = *cmd;
    le->cid = cpu_to_le16(cmd->cid);
    le->nsid = cpu_to_le32(cmd->nsid);
    le->cdw2 = cpu_to_le32(cmd->cdw2);
    le->cdw3 = cpu_to_le32(cmd->cdw3);
    le->mptr = cpu_to_le64(cmd->mptr);
    if (NVME_SQE_PSDT(cmd->flags) == NVME_PSDT_PRP) {
        le->dptr.prp1 = cpu_to_le64(cmd->dptr.prp1);
        le->dptr.prp2 = cpu_to_le64(cmd->dptr.prp2);
    } else {
        le->dptr.sgl.addr = cpu_to_le64(cmd->dptr.sgl.addr);
        le->dptr.sgl.len = cpu_to_le32(cmd->dptr.sgl.len);
    }
    le->cdw10 = cpu_to_le32(cmd->cdw10);
    le->cdw11 = cpu_to_le32(cmd->cdw11);
    le->cdw12 = cpu_to_le32(cmd->cdw12);
    le->cdw13 = cpu_to_le32(cmd->cdw13);
    le->cdw14 = cpu_to_le32(cmd->cdw14);
    le->cdw15 = cpu_to_le32(cmd->cdw15);
}

static void qnvme_cqe_from_le(NvmeCqe *cqe)
{
    cqe->dw0 = le32_to_cpu(cqe->dw0);
    cqe->dw1 = le32_to_cpu(cqe->dw1);
    cqe->sqhd = le16_to_cpu(cqe->sqhd);
    cqe->sqid = le16_to_cpu(cqe->sqid);
    cqe->cid = le16_to_cpu(cqe->cid);
    cqe->status = le16_to_cpu(cqe->status);
}

uint16_t qnvme_cqe_status(const NvmeCqe *cqe)
{
    return cqe->status >> 1;
}

uint16_t qnvme_submit(QNvmeCtrl *c, uint16_t sqid, NvmeSqe *cmd)
{
    QNvmeQueue *sq = &c->sq[sqid];
    NvmeSqe le;

    g_assert(sqid <= QNVME_MAX_QID && sq->live);
    cmd->cid = c->next_cid++;
    if (c->next_cid == 0xffff) {    /* FFFFh: "not applicable" in error log */
        c->next_cid = 1;
    }
    qnvme_sqe_to_le(&le, cmd);
    qtest_memwrite(c->qts, sq->addr + sq->ptr * sizeof(NvmeSqe), &le,
                   sizeof(le));
    sq->ptr = (sq->ptr + 1) % sq->entries;
    qnvme_ring(c, qnvme_sq_db(sqid), sq->ptr);
    return cmd->cid;
}

bool qnvme_cq_peek(QNvmeCtrl *c, uint16_t cqid, NvmeCqe *cqe)
{
    QNvmeQueue *cq = &c->cq[cqid];

    qtest_memread(c->qts, cq->addr + cq->ptr * sizeof(NvmeCqe), cqe,
                  sizeof(*cqe));
    qnvme_cqe_from_le(cqe);
    return (cqe->status & 1) == cq->phase;
}

void qnvme_cq_pop(QNvmeCtrl *c, uint16_t cqid, bool ring)
{
    QNvmeQueue *cq = &c->cq[cqid];

    cq->ptr++;
    if (cq->ptr == cq->entries) {
        cq->ptr = 0;
        cq->phase = !cq->phase;
    }
    if (ring) {
        qnvme_ring(c, qnvme_cq_db(cqid), cq->ptr);
    }
}

bool qnvme_unstash(QNvmeCtrl *c, uint16_t cqid, uint16_t cid, NvmeCqe *cqe)
{
    int i;

    for (i = 0; i < QNVME_STASH; i++) {
        QNvmeStashed *s = &c->stash[i];

        if (s->used && s->cqid == cqid && s->cqe.cid == cid) {
            *cqe = s->cqe;
            s->used = false;
            return true;
        }
    }
    return false;
}

void qnvme_stash_cqe(QNvmeCtrl *c, uint16_t cqid, const NvmeCqe *cqe)
{
    int i;

    for (i = 0; i < QNVME_STASH; i++) {
        if (!c->stash[i].used) {
            c->stash[i] = (QNvmeStashed) { true, cqid, *cqe };
            return;
        }
    }
    g_assert_not_reached();
}

bool qnvme_wait_cid_step(QNvmeCtrl *c, uint16_t cqid, uint16_t cid,
                         NvmeCqe *cqe, gint64 timeout_us, int64_t step_ns)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    g_assert(cqid <= QNVME_MAX_QID && c->cq[cqid].live);
    if (qnvme_unstash(c, cqid, cid, cqe)) {
        return true;
    }
    for (;;) {
        while (qnvme_cq_peek(c, cqid, cqe)) {
            qnvme_cq_pop(c, cqid, true);
            if (cqe->cid == cid) {
                return true;
            }
            qnvme_stash_cqe(c, cqid, cqe);
        }
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        qtest_clock_step(c->qts, step_ns);
    }
}

bool qnvme_wait_cid(QNvmeCtrl *c, uint16_t cqid, uint16_t cid, NvmeCqe *cqe,
                    gint64 timeout_us)
{
    return qnvme_wait_cid_step(c, cqid, cid, cqe, timeout_us,
                               QNVME_POLL_STEP_NS);
}

uint16_t qnvme_wait_status_step(QNvmeCtrl *c, uint16_t cqid, uint16_t cid,
                                gint64 timeout_us, int64_t step_ns)
{
    NvmeCqe cqe;

    if (!qnvme_wait_cid_step(c, cqid, cid, &cqe, timeout_us, step_ns)) {
        qnvme_fail("nvme: no completion for cid %u on cq %u", cid, cqid);
        return QNVME_ST_NO_ANSWER;
    }
    return qnvme_cqe_status(&cqe);
}

uint16_t qnvme_exec(QNvmeCtrl *c, uint16_t sqid, NvmeSqe *cmd, NvmeCqe *out)
{
    uint16_t cqid = c->sq[sqid].cqid;
    uint16_t cid;
    NvmeCqe cqe = { .status = QNVME_ST_NO_ANSWER << 1, .sqid = sqid };

    if (c->dead) {
        qnvme_fail("nvme: controller no longer answers");
        goto out;
    }
    cid = qnvme_submit(c, sqid, cmd);
    if (!qnvme_wait_cid(c, cqid, cid, &cqe, QNVME_TIMEOUT_US)) {
        qnvme_fail("nvme: no completion for opcode 0x%x cid %u on sq %u",
                           cmd->opcode, cid, sqid);
        c->dead = true;
        cqe = (NvmeCqe) { .status = QNVME_ST_NO_ANSWER << 1, .sqid = sqid };
        goto out;
    }
    g_assert_cmpuint(cqe.sqid, ==, sqid);
out:
    if (out) {
        *out = cqe;
    }
    return qnvme_cqe_status(&cqe);
}

uint16_t qnvme_admin(QNvmeCtrl *c, NvmeSqe *cmd, NvmeCqe *out)
{
    return qnvme_exec(c, 0, cmd, out);
}

bool qnvme_cq_stays_empty(QNvmeCtrl *c, uint16_t cqid, gint64 us)
{
    gint64 deadline = g_get_monotonic_time() + us;
    NvmeCqe cqe;

    while (g_get_monotonic_time() < deadline) {
        if (qnvme_cq_peek(c, cqid, &cqe)) {
            return false;
        }
        qtest_clock_step(c->qts, QNVME_POLL_STEP_NS);
    }
    return true;
}

/* ---- data pointers ------------------------------------------------------ */

/*
 * PRP1/PRP2 for @len bytes at guest address @buf (base 4.3), in host
 * memory pages of CC.MPS: PRP1 may carry an offset, later entries are page
 * aligned; more than two pages take a PRP list, chained through the last
 * entry of each list page when needed.
 */
static void qnvme_prps(QNvmeCtrl *c, uint64_t buf, size_t len, uint64_t *prp1,
                       uint64_t *prp2)
{
    const uint64_t psize = c->page_size;
    uint64_t first = psize - (buf & (psize - 1));
    const size_t per_page = psize / 8;
    uint64_t page, list, *ents;
    size_t n, i, pos;

    *prp1 = buf;
    *prp2 = 0;
    if (len <= first) {
        return;
    }
    page = buf + first;
    n = DIV_ROUND_UP(len - first, psize);
    if (n == 1) {
        *prp2 = page;
        return;
    }
    ents = g_new0(uint64_t, per_page);
    list = qnvme_alloc_aligned(c, psize, psize);
    *prp2 = list;
    for (i = 0, pos = 0; i < n; i++) {
        if (pos == per_page - 1 && n - i > 1) {
            uint64_t next = qnvme_alloc_aligned(c, psize, psize);

            ents[pos] = cpu_to_le64(next);
            qtest_memwrite(c->qts, list, ents, psize);
            list = next;
            pos = 0;
        }
        ents[pos++] = cpu_to_le64(page + i * psize);
    }
    qtest_memwrite(c->qts, list, ents, pos * 8);
    g_free(ents);
}

void qnvme_set_prps(QNvmeCtrl *c, NvmeSqe *cmd, uint64_t buf, size_t len)
{
    uint64_t prp1, prp2;

    qnvme_prps(c, buf, len, &prp1, &prp2);
    cmd->dptr.prp1 = prp1;
    cmd->dptr.prp2 = prp2;
}

uint64_t qnvme_prp_zbuf(QNvmeCtrl *c, NvmeSqe *cmd, size_t len)
{
    uint64_t buf = qnvme_zalloc(c, len);

    qnvme_set_prps(c, cmd, buf, len);
    return buf;
}

NvmeSgl qnvme_sgl(uint64_t addr, uint32_t len, uint8_t type)
{
    NvmeSgl d = { .addr = cpu_to_le64(addr), .len = cpu_to_le32(len) };

    d.type = type << 4;
    return d;
}

void qnvme_set_sgl(NvmeSqe *cmd, uint64_t addr, uint32_t len, uint8_t type)
{
    cmd->flags = (cmd->flags & 0x3f) | (NVME_PSDT_SGL_MPTR_CONTIG << 6);
    cmd->dptr.sgl = (NvmeSgl) { .addr = addr, .len = len, .type = type << 4 };
}

uint64_t qnvme_sgl_segment(QNvmeCtrl *c, const NvmeSgl *descs, int n)
{
    uint64_t seg = qnvme_alloc(c, n * sizeof(NvmeSgl));

    qtest_memwrite(c->qts, seg, descs, n * sizeof(NvmeSgl));
    return seg;
}

/* ---- admin commands ----------------------------------------------------- */

uint16_t qnvme_admin_read(QNvmeCtrl *c, NvmeSqe *cmd, void *out, size_t len,
                          NvmeCqe *cqe)
{
    uint64_t buf = qnvme_alloc(c, len);
    uint16_t st;

    qtest_memset(c->qts, buf, QNVME_FILL, len);
    qnvme_set_prps(c, cmd, buf, len);
    st = qnvme_admin(c, cmd, cqe);
    qtest_memread(c->qts, buf, out, len);
    guest_free(&c->qs->alloc, buf);
    return st;
}

uint16_t qnvme_identify(QNvmeCtrl *c, const QNvmeIdentify *id, void *out)
{
    NvmeSqe cmd = {
        .opcode = NVME_ADM_IDENTIFY, .nsid = id->nsid, .cdw10 = id->cns,
        .cdw11 = (uint32_t)id->csi << R_NVME_IDENTIFY_DW11_CSI_SHIFT,
    };

    return qnvme_admin_read(c, &cmd, out, NVME_IDENTIFY_SIZE, NULL);
}

void qnvme_identify_ctrl(QNvmeCtrl *c, NvmeIdCtrl *id)
{
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){ .cns = NVME_CNS_CTRL },
                                   id));
}

void qnvme_identify_ns(QNvmeCtrl *c, uint32_t nsid, NvmeIdNs *id)
{
    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){
                        .cns = NVME_CNS_NS, .nsid = nsid }, id));
}

void qnvme_assert_alive(QNvmeCtrl *c)
{
    NvmeIdCtrl id;

    g_assert_cmphex(qnvme_readl(c, A_NVME_CSTS) & R_NVME_CSTS_CFS_MASK, ==, 0);
    qnvme_identify_ctrl(c, &id);
    g_assert_cmpuint(le32_to_cpu(id.nn), ==, 1024);
}

uint16_t qnvme_get_log(QNvmeCtrl *c, const QNvmeGetLog *log, void *out,
                       size_t len)
{
    uint32_t numd = len / 4 - 1;
    NvmeSqe cmd = {
        .opcode = NVME_ADM_GET_LOG_PAGE, .nsid = log->nsid,
        .cdw10 = log->lid | (log->rae ? R_NVME_LOG_DW10_RAE_MASK : 0) |
                 FIELD_DP32(0, NVME_LOG_DW10, LSP, log->lsp) |
                 ((numd & 0xffff) << R_NVME_LOG_DW10_NUMDL_SHIFT),
        .cdw11 = numd >> 16,
        .cdw12 = (uint32_t)log->offset, .cdw13 = log->offset >> 32,
    };

    return qnvme_admin_read(c, &cmd, out, len, NULL);
}

void qnvme_read_log(QNvmeCtrl *c, uint8_t lid, void *out, size_t len)
{
    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){ .lid = lid }, out, len));
}

uint16_t qnvme_get_features(QNvmeCtrl *c, const QNvmeFeat *feat, uint32_t *dw0)
{
    NvmeSqe cmd = {
        .opcode = NVME_ADM_GET_FEATURES, .nsid = feat->nsid,
        .cdw10 = feat->fid |
                 ((uint32_t)feat->sel << R_NVME_FEAT_DW10_SEL_SHIFT),
        .cdw11 = feat->dw11,
    };
    uint8_t dummy[8];
    NvmeCqe cqe;
    uint16_t st;

    st = qnvme_admin_read(c, &cmd, feat->buf ? feat->buf : dummy,
                          feat->buf ? feat->len : sizeof(dummy), &cqe);
    if (dw0) {
        *dw0 = cqe.dw0;
    }
    return st;
}

uint16_t qnvme_set_features(QNvmeCtrl *c, const QNvmeFeat *feat, uint32_t *dw0)
{
    NvmeSqe cmd = {
        .opcode = NVME_ADM_SET_FEATURES, .nsid = feat->nsid,
        .cdw10 = feat->fid | (feat->save ? R_NVME_FEAT_DW10_SV_MASK : 0),
        .cdw11 = feat->dw11,
    };
    uint64_t buf = 0;
    NvmeCqe cqe;
    uint16_t st;

    if (feat->buf) {
        buf = qnvme_alloc(c, feat->len);
        qtest_memwrite(c->qts, buf, feat->buf, feat->len);
        qnvme_set_prps(c, &cmd, buf, feat->len);
    }
    st = qnvme_admin(c, &cmd, &cqe);
    if (buf) {
        guest_free(&c->qs->alloc, buf);
    }
    if (dw0) {
        *dw0 = cqe.dw0;
    }
    return st;
}

void qnvme_set_feature(QNvmeCtrl *c, uint8_t fid, uint32_t dw11)
{
    qnvme_assert_ok(qnvme_set_features(c, &(QNvmeFeat){
                        .fid = fid, .dw11 = dw11 }, NULL));
}

uint16_t qnvme_ns_attachment(QNvmeCtrl *c, uint32_t sel, uint32_t nsid,
                             uint16_t count, const uint16_t *ids, int nr)
{
    uint16_t list[NVME_IDENTIFY_SIZE / 2] = { cpu_to_le16(count) };
    uint64_t buf = qnvme_alloc(c, sizeof(list));
    NvmeSqe cmd = {
        .opcode = NVME_ADM_NS_ATTACHMENT, .nsid = nsid,
        .cdw10 = FIELD_DP32(0, NVME_NS_ATTACH_DW10, SEL, sel),
    };
    uint16_t st;

    for (int i = 0; i < nr; i++) {
        list[i + 1] = cpu_to_le16(ids[i]);
    }
    qtest_memwrite(c->qts, buf, list, sizeof(list));
    qnvme_set_prps(c, &cmd, buf, sizeof(list));
    st = qnvme_admin(c, &cmd, NULL);
    guest_free(&c->qs->alloc, buf);
    return st;
}

uint16_t qnvme_aer_submit(QNvmeCtrl *c)
{
    NvmeSqe cmd = { .opcode = NVME_ADM_ASYNC_EVENT };

    return qnvme_submit(c, 0, &cmd);
}

NvmeCqe qnvme_wait_cqe(QNvmeCtrl *c, uint16_t cqid, uint16_t cid)
{
    NvmeCqe cqe;

    g_assert_true(qnvme_wait_cid(c, cqid, cid, &cqe, QNVME_TIMEOUT_US));
    return cqe;
}

void qnvme_assert_pending(QNvmeCtrl *c, uint16_t cqid, uint16_t cid)
{
    NvmeCqe cqe;

    g_assert_false(qnvme_wait_cid(c, cqid, cid, &cqe, QNVME_SHORT_US));
}

void qnvme_assert_aer(QNvmeCtrl *c, uint16_t cid, uint8_t type, uint8_t info,
                      uint8_t lid)
{
    NvmeCqe cqe = qnvme_wait_cqe(c, 0, cid);

    qnvme_assert_ok(qnvme_cqe_status(&cqe));
    g_assert_cmpuint(FIELD_EX32(cqe.dw0, NVME_AER_DW0, TYPE), ==, type);
    g_assert_cmpuint(FIELD_EX32(cqe.dw0, NVME_AER_DW0, INFO), ==, info);
    g_assert_cmpuint(FIELD_EX32(cqe.dw0, NVME_AER_DW0, LID), ==, lid);
}

uint16_t qnvme_create_cq(QNvmeCtrl *c, const QNvmeCreateQ *q)
{
    uint64_t ring = qnvme_page_zalloc(c, MAX(q->entries, 1) * sizeof(NvmeCqe));
    NvmeSqe cmd = {
        .opcode = NVME_ADM_CREATE_CQ,
        .cdw10 = q->qid |
                 ((q->entries - 1) << R_NVME_CREATE_Q_DW10_QSIZE_SHIFT),
        .cdw11 = R_NVME_CREATE_CQ_DW11_PC_MASK |
                 (q->ien ? R_NVME_CREATE_CQ_DW11_IEN_MASK : 0) |
                 ((uint32_t)q->vector << R_NVME_CREATE_CQ_DW11_IV_SHIFT),
    };
    uint16_t st;

    cmd.dptr.prp1 = ring;
    st = qnvme_admin(c, &cmd, NULL);
    if (st == NVME_SC_SUCCESS && q->qid <= QNVME_MAX_QID) {
        c->cq[q->qid] = (QNvmeQueue) {
            .addr = ring, .entries = q->entries, .phase = true, .live = true,
        };
    }
    return st;
}

uint16_t qnvme_create_sq(QNvmeCtrl *c, const QNvmeCreateQ *q)
{
    uint64_t ring = qnvme_page_zalloc(c, MAX(q->entries, 1) * sizeof(NvmeSqe));
    NvmeSqe cmd = {
        .opcode = NVME_ADM_CREATE_SQ,
        .cdw10 = q->qid |
                 ((q->entries - 1) << R_NVME_CREATE_Q_DW10_QSIZE_SHIFT),
        .cdw11 = R_NVME_CREATE_SQ_DW11_PC_MASK |
                 ((uint32_t)q->cqid << R_NVME_CREATE_SQ_DW11_CQID_SHIFT),
    };
    uint16_t st;

    cmd.dptr.prp1 = ring;
    st = qnvme_admin(c, &cmd, NULL);
    if (st == NVME_SC_SUCCESS && q->qid <= QNVME_MAX_QID) {
        c->sq[q->qid] = (QNvmeQueue) {
            .addr = ring, .entries = q->entries, .cqid = q->cqid,
            .live = true,
        };
    }
    return st;
}

uint16_t qnvme_delete_q(QNvmeCtrl *c, uint8_t opcode, uint16_t qid)
{
    NvmeSqe cmd = { .opcode = opcode, .cdw10 = qid };
    uint16_t st = qnvme_admin(c, &cmd, NULL);

    if (st == NVME_SC_SUCCESS && qid <= QNVME_MAX_QID) {
        if (opcode == NVME_ADM_DELETE_SQ) {
            c->sq[qid].live = false;
        } else {
            c->cq[qid].live = false;
        }
    }
    return st;
}

void qnvme_create_ioq_pair(QNvmeCtrl *c, uint16_t qid, uint32_t entries)
{
    qnvme_assert_ok(qnvme_create_cq(c, &(QNvmeCreateQ){
                        .qid = qid, .entries = entries,
                        .vector = c->msix ? qid : 0, .ien = true }));
    qnvme_assert_ok(qnvme_create_sq(c, &(QNvmeCreateQ){
                        .qid = qid, .entries = entries, .cqid = qid }));
}

QNvmeCtrl *qnvme_boot_io(void)
{
    QNvmeCtrl *c = qnvme_boot_enabled();

    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    return c;
}

QNvmeCtrl *qnvme_boot_io_with(const char *devs)
{
    QNvmeCtrl *c = qnvme_boot("%s", devs);

    qnvme_enable(c);
    qnvme_create_ioq_pair(c, 1, QNVME_IOQ_ENTRIES);
    return c;
}

/* ---- NVM commands ------------------------------------------------------- */

NvmeSqe qnvme_rw_cmd(uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
    return (NvmeSqe) {
        .opcode = opcode, .nsid = nsid,
        .cdw10 = (uint32_t)slba, .cdw11 = slba >> 32,
        .cdw12 = (nlb - 1) & R_NVME_RW_DW12_NLB_MASK,
    };
}

uint16_t qnvme_write(QNvmeCtrl *c, uint16_t sqid, uint8_t opcode, uint32_t nsid,
                     uint64_t slba, uint32_t nlb, const void *data, size_t len)
{
    NvmeSqe cmd = qnvme_rw_cmd(opcode, nsid, slba, nlb);
    uint64_t buf = qnvme_alloc(c, len);
    uint16_t st;

    qtest_bufwrite(c->qts, buf, data, len);
    qnvme_set_prps(c, &cmd, buf, len);
    st = qnvme_exec(c, sqid, &cmd, NULL);
    guest_free(&c->qs->alloc, buf);
    return st;
}

uint16_t qnvme_read(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid, uint64_t slba,
                    uint32_t nlb, void *out, size_t len)
{
    NvmeSqe cmd = qnvme_rw_cmd(NVME_IO_READ, nsid, slba, nlb);
    uint64_t buf = qnvme_alloc(c, len);
    uint16_t st;

    qtest_memset(c->qts, buf, QNVME_FILL, len);
    qnvme_set_prps(c, &cmd, buf, len);
    st = qnvme_exec(c, sqid, &cmd, NULL);
    qtest_bufread(c->qts, buf, out, len);
    guest_free(&c->qs->alloc, buf);
    return st;
}

uint16_t qnvme_io_nodata(QNvmeCtrl *c, uint16_t sqid, uint8_t opcode,
                         uint32_t nsid, uint64_t slba, uint32_t nlb)
{
    NvmeSqe cmd = qnvme_rw_cmd(opcode, nsid, slba, nlb);

    return qnvme_exec(c, sqid, &cmd, NULL);
}

void qnvme_pattern(void *buf, size_t len, uint32_t seed)
{
    uint8_t *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9) * 13);
    }
}

bool qnvme_all_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* ---- the ANA log page (base 5.16.1.12) --------------------------------- */

/* Parse an ANA log: reserved bytes zero, nothing after the last NSID */
static void qnvme_ana_log_parse(const uint8_t *buf, QNvmeAnaLog *log)
{
    NvmeAnaLogHeader hdr;
    size_t off = sizeof(hdr);

    memset(log, 0, sizeof(*log));
    memcpy(&hdr, buf, sizeof(hdr));
    g_assert_true(qnvme_all_zero(hdr.rsvd10, sizeof(hdr.rsvd10)));
    log->chgcnt = le64_to_cpu(hdr.chgcnt);
    log->ngrps = le16_to_cpu(hdr.ngrps);
    g_assert_cmpuint(log->ngrps, <=, QNVME_ANA_GRPS);
    for (int i = 0; i < log->ngrps && i < QNVME_ANA_GRPS; i++) {
        QNvmeAnaDesc *a = &log->desc[i];
        NvmeAnaGroupDesc d;

        g_assert_cmpuint(off + sizeof(d), <=, QNVME_ANA_LOG_READ);
        memcpy(&d, buf + off, sizeof(d));
        off += sizeof(d);
        a->grpid = le32_to_cpu(d.grpid);
        a->nnsids = le32_to_cpu(d.nnsids);
        a->chgcnt = le64_to_cpu(d.chgcnt);
        a->state = d.state;
        g_assert_true(qnvme_all_zero(d.rsvd17, sizeof(d.rsvd17)));
        g_assert_cmpuint(a->nnsids, <=, QNVME_ANA_DESC_NSIDS);
        for (unsigned j = 0; j < a->nnsids && j < QNVME_ANA_DESC_NSIDS; j++) {
            a->nsids[j] = ldl_le_p(buf + off);
            off += 4;
        }
    }
    log->len = off;
    g_assert_true(qnvme_all_zero(buf + off, QNVME_ANA_LOG_READ - off));
}

void qnvme_read_ana_log(QNvmeCtrl *c, uint8_t lsp, bool rae, QNvmeAnaLog *log)
{
    g_autofree uint8_t *buf = g_malloc(QNVME_ANA_LOG_READ);

    qnvme_assert_ok(qnvme_get_log(c, &(QNvmeGetLog){
                        .lid = NVME_LOG_ANA, .lsp = lsp, .rae = rae },
                        buf, QNVME_ANA_LOG_READ));
    qnvme_ana_log_parse(buf, log);
}

/* ---- NVM commands with test data ---------------------------------------- */

uint16_t qnvme_read_blocks(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                           uint64_t slba, uint32_t nlb)
{
    g_autofree uint8_t *out = g_malloc(nlb * 512);

    return qnvme_read(c, sqid, nsid, slba, nlb, out, nlb * 512);
}

void qnvme_write_pattern(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                         uint64_t slba, uint32_t nlb, uint32_t seed)
{
    size_t len = nlb * 512;
    g_autofree uint8_t *data = g_malloc(len);

    qnvme_pattern(data, len, seed);
    qnvme_assert_ok(qnvme_write(c, sqid, NVME_IO_WRITE, nsid, slba, nlb, data,
                                len));
}

void qnvme_assert_pattern(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                          uint64_t slba, uint32_t nlb, uint32_t seed)
{
    size_t len = nlb * 512;
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);

    qnvme_pattern(want, len, seed);
    qnvme_assert_ok(qnvme_read(c, sqid, nsid, slba, nlb, got, len));
    g_assert_true(memcmp(want, got, len) == 0);
}

/* ---- the test programs' tables of tests --------------------------------- */

void qnvme_test_init(int *argc, char ***argv)
{
    g_test_init(argc, argv, NULL);
    /*
     * A failed check fails its test and the run goes on, so that one device
     * bug does not hide the results of the tests after it.
     */
    g_test_set_nonfatal_assertions();
}

void qnvme_add_tests(const char *prefix, const QNvmeTest *tests, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s", prefix,
                                                tests[i].name);

        qtest_add_func(path, tests[i].fn);
    }
}

void qnvme_add_data_tests(const char *prefix, const QNvmeDataTest *tests,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s", prefix,
                                                tests[i].name);

        /* the case tables' C names, hyphenated like the other names */
        g_strdelimit(path, "_", '-');
        qtest_add_data_func(path, tests[i].data, tests[i].fn);
    }
}
