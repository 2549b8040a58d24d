/*
 * qtests of hostile input to our NVMe controller: doorbell writes that
 * name no queue or no valid entry, queue management commands with bad
 * identifiers, sizes and memory, data pointers into MMIO, beyond RAM or
 * malformed, and commands with bad LBA ranges, NSIDs, lengths, opcodes and
 * FUSE. The command fails with the status the NVM Express Base
 * Specification 2.0 ("base") gives, nothing lands where it must not, and
 * the controller goes on working. Each test boots a q35 machine and drives
 * the controller as a host driver would (libqos/nvme.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/nvme.h"

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

/*
 * The controller went on working: it answers, and what is written to
 * namespace 1 through I/O queue pair 1 reads back (pattern @seed)
 */
static void hostile_assert_works(QNvmeCtrl *c, uint32_t seed)
{
    qnvme_assert_alive(c);
    qnvme_write_pattern(c, 1, 1, 0, 8, seed);
    qnvme_assert_pattern(c, 1, 1, 0, 8, seed);
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
    hostile_assert_works(c, 13);
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
    hostile_assert_works(c, 14);
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

        qnvme_prp_zbuf(c, &cmd, 512);
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
    buf = qnvme_prp_zbuf(c, &cmd, sizeof(got));
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
    qnvme_set_sgl(cmd, qnvme_sgl_segment(c, descs, n), n * sizeof(NvmeSgl),
                  type);
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
        qnvme_assert_status(qnvme_exec(c, 1, &cmd, NULL), want);
    } else {
        qnvme_assert_status_any_dnr(qnvme_exec(c, 1, &cmd, NULL), want);
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
    qnvme_assert_status(qnvme_exec(c, 1, &cmd, NULL), ST_INVALID_FIELD);
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
    qnvme_assert_status(qnvme_io_nodata(c, 1, NVME_IO_WRITE_ZEROES, 1,
                                        UINT64_MAX, 2), ST_LBA_RANGE);
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
    qnvme_assert_status(qnvme_io_nodata(c, 1, NVME_IO_WRITE_ZEROES, nc->nsid,
                                        0, 1), nc->want);
    qnvme_assert_status(qnvme_io_nodata(c, 1, NVME_IO_FLUSH, nc->nsid, 0, 1),
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
            qnvme_assert_status(qnvme_exec(c, 1, &io, NULL), ST_INVALID_OPCODE);
        }
    }
    hostile_assert_works(c, 16);
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

        qnvme_prp_zbuf(c, &cmd, 512);
        cmd.flags = fuse;
        qnvme_assert_status(qnvme_exec(c, 1, &cmd, NULL), ST_INVALID_FIELD);
        adm.dptr.prp1 = qnvme_zalloc(c, NVME_IDENTIFY_SIZE);
        qnvme_assert_status(qnvme_admin(c, &adm, NULL), ST_INVALID_FIELD);
    }
    qnvme_assert_alive(c);
    qnvme_shutdown(c);
}

/* ---- the list of tests -------------------------------------------------- */

static const QNvmeTest tests[] = {
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

#define DB(name) \
    { "hostile/doorbell/" #name, test_hostile_doorbell, &db_##name }
#define Q(name) { "hostile/queue/" #name, test_hostile_queue, &name }
#define DPTR(name, kind) \
    { "hostile/dptr/" name, test_hostile_dptr, GINT_TO_POINTER(kind) }
#define NSID(name) { "hostile/nsid/" #name, test_hostile_nsid, &nsid_##name }

static const QNvmeDataTest data_tests[] = {
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
    qnvme_test_init(&argc, &argv);
    qnvme_add_tests("nvme", tests, ARRAY_SIZE(tests));
    qnvme_add_data_tests("nvme", data_tests, ARRAY_SIZE(data_tests));
    return g_test_run();
}
