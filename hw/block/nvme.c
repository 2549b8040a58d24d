/*
 * NVMe controller: the PCI function, its registers, queues and the life of
 * a request. Admin command handlers live in nvme-admin.c, the NVM command
 * set in nvme-io.c, namespaces in nvme-ns.c.
 *
 * Map of this file, in the order a command travels (NVMe Base 2.0; data
 * pointers, PRPs and SGLs, are resolved in nvme-dma.c):
 *
 *   doorbell write     nvme_bar_write -> nvme_doorbell_write: record the new
 *                      tail/head and schedule a bottom half; no command runs
 *                      in MMIO context.
 *   SQ bottom half     nvme_sq_bh: fetch SQEs, take a preallocated request.
 *   parse              nvme_parse_cmd: descriptor lookup, then the shared
 *                      gates in a fixed order (opcode, FUSE/PSDT, NSID).
 *   execute            desc->exec returns a status, or NVME_NO_COMPLETE when
 *                      AIO will finish it.
 *   complete           nvme_req_complete: the only exit; error log, trace,
 *                      hand the request to its CQ.
 *   CQ bottom half     nvme_cq_bh: write CQEs with the phase tag, recycle the
 *                      requests, raise the interrupt.
 *
 * Controller reset (CC.EN 1->0) cancels in-flight AIO, drains the backends
 * and only then frees the queues.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qemu/cutils.h"
#include "qapi/visitor.h"
#include "qapi/error.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "nvme.h"
#include "trace.h"

#define NVME_SQE_SIZE   64
#define NVME_CQE_SIZE   16

void nvme_guest_error(NvmeCtrl *ctrl, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_nvme_ub(msg);
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %s\n",
                  DEVICE(ctrl)->id ? DEVICE(ctrl)->id : TYPE_NVME, msg);
}

uint16_t nvme_invalid_field(NvmeRequest *req, uint16_t loc)
{
    req->error_loc = loc;
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, true);
}

static bool nvme_ctrl_ready(NvmeCtrl *ctrl)
{
    return FIELD_EX32(ctrl->csts, NVME_CSTS, RDY) &&
           !FIELD_EX32(ctrl->csts, NVME_CSTS, CFS);
}

/* A condition the host cannot recover from without a reset (base 3.1.4.6). */
static void nvme_fatal(NvmeCtrl *ctrl, const char *why)
{
    nvme_guest_error(ctrl, "controller fatal status: %s", why);
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, CFS, 1);
}

/* ---- interrupts --------------------------------------------------------- */

static void nvme_irq_update_pin(NvmeCtrl *ctrl)
{
    PCIDevice *pci = PCI_DEVICE(ctrl);

    if (ctrl->irq_status & ~ctrl->intms) {
        pci_irq_assert(pci);
    } else {
        pci_irq_deassert(pci);
    }
}

static void nvme_irq_raise(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    PCIDevice *pci = PCI_DEVICE(ctrl);

    if (!cq->irq_enabled) {
        return;
    }
    if (msix_enabled(pci)) {
        trace_nvme_irq_msix(cq->vector);
        msix_notify(pci, cq->vector);
        return;
    }
    /* Pin-based and MSI share one line here; INTMS masks per vector. */
    ctrl->irq_status |= 1u << (cq->vector % 32);
    nvme_irq_update_pin(ctrl);
}

/* The host consumed a CQ: drop the pin-based request if nothing is pending. */
static void nvme_irq_lower(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    unsigned vector = cq->vector % 32;

    if (msix_enabled(PCI_DEVICE(ctrl)) || !cq->irq_enabled) {
        return;
    }
    for (unsigned i = 0; i <= ctrl->params.max_ioqpairs; i++) {
        NvmeCQueue *other = ctrl->cq[i];
        if (other && other->irq_enabled && other->vector % 32 == vector &&
            other->head != other->tail) {
            return;
        }
    }
    ctrl->irq_status &= ~(1u << vector);
    nvme_irq_update_pin(ctrl);
}

/* ---- queues --------------------------------------------------------------- */

bool nvme_sqid_valid(NvmeCtrl *ctrl, uint16_t sqid)
{
    return sqid <= ctrl->params.max_ioqpairs && ctrl->sq[sqid];
}

bool nvme_cqid_valid(NvmeCtrl *ctrl, uint16_t cqid)
{
    return cqid <= ctrl->params.max_ioqpairs && ctrl->cq[cqid];
}

/* Offset of a queue's doorbell in BAR0 and in the shadow buffers. */
static hwaddr nvme_db_offset(NvmeCtrl *ctrl, uint16_t qid, bool is_cq)
{
    unsigned stride = 4 << FIELD_EX64(ctrl->cap, NVME_CAP, DSTRD);

    return (2 * qid + is_cq) * stride;
}

static void nvme_sq_bh(void *opaque);
static void nvme_cq_bh(void *opaque);

static void nvme_sq_notifier(EventNotifier *e)
{
    NvmeSQueue *sq = container_of(e, NvmeSQueue, notifier);

    if (event_notifier_test_and_clear(e)) {
        nvme_sq_bh(sq);
    }
}

static void nvme_cq_notifier(EventNotifier *e)
{
    NvmeCQueue *cq = container_of(e, NvmeCQueue, notifier);

    if (event_notifier_test_and_clear(e)) {
        nvme_cq_bh(cq);
    }
}

/*
 * With shadow doorbells the host may skip the MMIO write (base 5.8); an
 * eventfd on the doorbell then costs no exit to the main loop's MMIO path.
 */
static bool nvme_attach_ioeventfd(NvmeCtrl *ctrl, EventNotifier *e,
                                  hwaddr offset, EventNotifierHandler *fn)
{
    if (!ctrl->params.ioeventfd || event_notifier_init(e, 0) < 0) {
        return false;
    }
    event_notifier_set_handler(e, fn);
    memory_region_add_eventfd(&ctrl->iomem, NVME_REG_SIZE + offset, 4, false,
                              0, e);
    trace_nvme_ioeventfd(offset);
    return true;
}

static void nvme_detach_ioeventfd(NvmeCtrl *ctrl, EventNotifier *e,
                                  hwaddr offset)
{
    memory_region_del_eventfd(&ctrl->iomem, NVME_REG_SIZE + offset, 4, false,
                              0, e);
    event_notifier_set_handler(e, NULL);
    event_notifier_cleanup(e);
}

static void nvme_sq_init_shadow(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    hwaddr off = nvme_db_offset(ctrl, sq->sqid, false);

    sq->shadow_db_addr = ctrl->dbbuf_dbs + off;
    sq->shadow_ei_addr = ctrl->dbbuf_eis + off;
    sq->ioeventfd = nvme_attach_ioeventfd(ctrl, &sq->notifier, off,
                                          nvme_sq_notifier);
}

static void nvme_cq_init_shadow(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    hwaddr off = nvme_db_offset(ctrl, cq->cqid, true);

    cq->shadow_db_addr = ctrl->dbbuf_dbs + off;
    cq->shadow_ei_addr = ctrl->dbbuf_eis + off;
    cq->ioeventfd = nvme_attach_ioeventfd(ctrl, &cq->notifier, off,
                                          nvme_cq_notifier);
}

static void nvme_sq_create(NvmeCtrl *ctrl, uint16_t sqid, uint16_t cqid,
                           uint64_t dma_addr, uint32_t size, uint8_t prio)
{
    NvmeSQueue *sq = g_new0(NvmeSQueue, 1);
    NvmeCQueue *cq = ctrl->cq[cqid];

    sq->ctrl = ctrl;
    sq->sqid = sqid;
    sq->cqid = cqid;
    sq->size = size;
    sq->prio = prio;
    sq->dma_addr = dma_addr;
    sq->reqs = g_new0(NvmeRequest, size);
    QTAILQ_INIT(&sq->free_reqs);
    QTAILQ_INIT(&sq->out_reqs);
    for (uint32_t i = 0; i < size; i++) {
        sq->reqs[i].sq = sq;
        QTAILQ_INSERT_TAIL(&sq->free_reqs, &sq->reqs[i], entry);
    }
    sq->bh = qemu_bh_new_guarded(nvme_sq_bh, sq,
                                 &DEVICE(ctrl)->mem_reentrancy_guard);
    if (sqid && ctrl->dbbuf_enabled) {
        nvme_sq_init_shadow(ctrl, sq);
    }
    QTAILQ_INSERT_TAIL(&cq->sqs, sq, cq_link);
    ctrl->sq[sqid] = sq;
    trace_nvme_sq_create(sqid, cqid, size, dma_addr);
}

static void nvme_cq_create(NvmeCtrl *ctrl, uint16_t cqid, uint64_t dma_addr,
                           uint32_t size, uint16_t vector, bool irq_enabled)
{
    NvmeCQueue *cq = g_new0(NvmeCQueue, 1);

    cq->ctrl = ctrl;
    cq->cqid = cqid;
    cq->size = size;
    cq->dma_addr = dma_addr;
    cq->vector = vector;
    cq->irq_enabled = irq_enabled;
    cq->phase = true;
    QTAILQ_INIT(&cq->sqs);
    QTAILQ_INIT(&cq->done_reqs);
    cq->bh = qemu_bh_new_guarded(nvme_cq_bh, cq,
                                 &DEVICE(ctrl)->mem_reentrancy_guard);
    if (cqid && ctrl->dbbuf_enabled) {
        nvme_cq_init_shadow(ctrl, cq);
    }
    ctrl->cq[cqid] = cq;
    trace_nvme_cq_create(cqid, size, dma_addr, vector, irq_enabled);
}

static void nvme_req_release(NvmeRequest *req);

/*
 * Free a submission queue. Its in-flight AIO must be finished: callers
 * cancel and drain first (base 5.6: outstanding commands are aborted or
 * completed before the Delete completes).
 */
static void nvme_sq_free(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    NvmeCQueue *cq = ctrl->cq[sq->cqid];
    NvmeRequest *req, *next;

    if (sq->ioeventfd) {
        nvme_detach_ioeventfd(ctrl, &sq->notifier,
                              nvme_db_offset(ctrl, sq->sqid, false));
    }
    /* Completions of this SQ that still wait for CQ space are dropped. */
    QTAILQ_FOREACH_SAFE(req, &cq->done_reqs, entry, next) {
        if (req->sq == sq) {
            QTAILQ_REMOVE(&cq->done_reqs, req, entry);
            nvme_req_release(req);
        }
    }
    QTAILQ_REMOVE(&cq->sqs, sq, cq_link);
    qemu_bh_delete(sq->bh);
    ctrl->sq[sq->sqid] = NULL;
    g_free(sq->reqs);
    g_free(sq);
}

static void nvme_cq_free(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    if (cq->ioeventfd) {
        nvme_detach_ioeventfd(ctrl, &cq->notifier,
                              nvme_db_offset(ctrl, cq->cqid, true));
    }
    nvme_irq_lower(ctrl, cq);
    qemu_bh_delete(cq->bh);
    ctrl->cq[cq->cqid] = NULL;
    g_free(cq);
}

/* Cancel a queue's AIO and wait for it; completions go nowhere. */
static void nvme_sq_cancel_aio(NvmeSQueue *sq)
{
    NvmeRequest *req;

    QTAILQ_FOREACH(req, &sq->out_reqs, entry) {
        if (req->aiocb) {
            blk_aio_cancel_async(req->aiocb);
        }
    }
}

/* Wait for the AIO of every attached namespace (a drain covers all queues) */
static void nvme_drain_namespaces(NvmeCtrl *ctrl)
{
    for (unsigned nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = ctrl->namespaces[nsid];
        if (ns) {
            blk_drain(nvme_ns_blk(ns));
        }
    }
}

static void nvme_sq_cancel_io(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    nvme_sq_cancel_aio(sq);
    if (!QTAILQ_EMPTY(&sq->out_reqs)) {
        nvme_drain_namespaces(ctrl);
    }
}

/* Check a queue's base address and size for Create I/O CQ/SQ. */
static uint16_t nvme_check_queue_memory(NvmeCtrl *ctrl, NvmeRequest *req,
                                        uint64_t addr, uint32_t size,
                                        unsigned entry_size)
{
    if (addr & (ctrl->page_size - 1)) {
        return nvme_invalid_field(req, NVME_LOC(24, 0));
    }
    if (!nvme_addr_is_ram(ctrl, addr, (hwaddr)size * entry_size)) {
        req->error_loc = NVME_LOC(24, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, true);
    }
    return NVME_OK;
}

/*
 * What Create I/O CQ and Create I/O SQ check alike (base 5.4, 5.5): a free
 * id within what Number of Queues allocated, a size within CAP.MQES, a
 * physically contiguous queue (CAP.CQR), the entry size set in CC first,
 * and queue memory in guest RAM.
 */
static uint16_t nvme_check_new_queue(NvmeCtrl *ctrl, NvmeRequest *req,
                                     bool is_cq, bool contiguous)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint16_t qid = FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID);
    uint32_t size = FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1;
    uint16_t allocated = is_cq ? ctrl->features.ncqa : ctrl->features.nsqa;
    unsigned entry_size = is_cq ? NVME_CQE_SIZE : NVME_SQE_SIZE;
    unsigned qes = is_cq ? FIELD_EX32(ctrl->cc, NVME_CC, IOCQES)
                         : FIELD_EX32(ctrl->cc, NVME_CC, IOSQES);

    if (qid == 0 || qid > ctrl->params.max_ioqpairs || qid > allocated + 1 ||
        (is_cq ? nvme_cqid_valid(ctrl, qid) : nvme_sqid_valid(ctrl, qid))) {
        req->error_loc = NVME_LOC(40, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    if (size < 2 || size > FIELD_EX64(ctrl->cap, NVME_CAP, MQES) + 1) {
        req->error_loc = NVME_LOC(42, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QSIZE, true);
    }
    if (!contiguous) {
        return nvme_invalid_field(req, NVME_LOC(44, 0));
    }
    if ((1u << qes) != entry_size) {
        /* base 3.1.4.5: IOSQES/IOCQES must be valid before queues exist */
        req->error_loc = NVME_LOC_NONE;
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE, true);
    }
    return nvme_check_queue_memory(ctrl, req, le64_to_cpu(req->cmd.dptr.prp1),
                                   size, entry_size);
}

/* base 5.4: Create I/O Completion Queue */
uint16_t nvme_admin_create_cq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint16_t vector = FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, IV);
    uint16_t status;

    if (vector >= ctrl->params.msix_qsize) {
        req->error_loc = NVME_LOC(46, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IRQ_VECTOR,
                           true);
    }
    status = nvme_check_new_queue(ctrl, req, true,
                                  FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, PC));
    if (status) {
        return status;
    }
    nvme_cq_create(ctrl, FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID),
                   le64_to_cpu(req->cmd.dptr.prp1),
                   FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1, vector,
                   FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, IEN));
    return NVME_OK;
}

/* base 5.5: Create I/O Submission Queue */
uint16_t nvme_admin_create_sq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint16_t cqid = FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, CQID);
    uint16_t status;

    if (cqid == 0 || !nvme_cqid_valid(ctrl, cqid)) {
        req->error_loc = NVME_LOC(46, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID, true);
    }
    status = nvme_check_new_queue(ctrl, req, false,
                                  FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, PC));
    if (status) {
        return status;
    }
    nvme_sq_create(ctrl, FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID), cqid,
                   le64_to_cpu(req->cmd.dptr.prp1),
                   FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1,
                   FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, QPRIO));
    return NVME_OK;
}

/* base 5.7: Delete I/O Submission Queue; its commands end as aborted */
uint16_t nvme_admin_delete_sq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint16_t sqid = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_CREATE_Q_DW10,
                               QID);
    NvmeSQueue *sq;

    if (sqid == 0 || !nvme_sqid_valid(ctrl, sqid)) {
        req->error_loc = NVME_LOC(40, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    sq = ctrl->sq[sqid];
    sq->deleting = true;
    nvme_sq_cancel_io(ctrl, sq);
    /* post what was cancelled, with status Aborted due to SQ Deletion */
    nvme_cq_bh(ctrl->cq[sq->cqid]);
    nvme_sq_free(ctrl, sq);
    trace_nvme_sq_delete(sqid);
    return NVME_OK;
}

/* base 5.6: Delete I/O Completion Queue */
uint16_t nvme_admin_delete_cq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint16_t cqid = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_CREATE_Q_DW10,
                               QID);

    if (cqid == 0 || !nvme_cqid_valid(ctrl, cqid)) {
        req->error_loc = NVME_LOC(40, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    if (!QTAILQ_EMPTY(&ctrl->cq[cqid]->sqs)) {
        req->error_loc = NVME_LOC(40, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC,
                           NVME_SC_INVALID_QUEUE_DELETION, true);
    }
    nvme_cq_free(ctrl, ctrl->cq[cqid]);
    trace_nvme_cq_delete(cqid);
    return NVME_OK;
}

/* base 5.8: Doorbell Buffer Config (shadow doorbells and EventIdx) */
uint16_t nvme_admin_dbbuf_config(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint64_t dbs = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t eis = le64_to_cpu(req->cmd.dptr.prp2);

    if ((dbs | eis) & (ctrl->page_size - 1)) {
        return nvme_invalid_field(req, NVME_LOC(24, 0));
    }
    if (!nvme_addr_is_ram(ctrl, dbs, ctrl->page_size) ||
        !nvme_addr_is_ram(ctrl, eis, ctrl->page_size)) {
        return nvme_invalid_field(req, NVME_LOC(24, 0));
    }
    ctrl->dbbuf_dbs = dbs;
    ctrl->dbbuf_eis = eis;
    ctrl->dbbuf_enabled = true;
    trace_nvme_dbbuf_config(dbs, eis);
    /* Queues created before the command use the buffers from now on. */
    for (unsigned qid = 1; qid <= ctrl->params.max_ioqpairs; qid++) {
        if (ctrl->cq[qid] && !ctrl->cq[qid]->shadow_db_addr) {
            nvme_cq_init_shadow(ctrl, ctrl->cq[qid]);
        }
        if (ctrl->sq[qid] && !ctrl->sq[qid]->shadow_db_addr) {
            nvme_sq_init_shadow(ctrl, ctrl->sq[qid]);
        }
    }
    return NVME_OK;
}

/* ---- parse and dispatch --------------------------------------------------- */

/* The shared gates, in order; a handler sees only commands that passed. */
static uint16_t nvme_parse_cmd(NvmeCtrl *ctrl, NvmeRequest *req)
{
    const NvmeCmdDesc *table = req->sq->sqid ? nvme_nvm_cmds : nvme_admin_cmds;
    uint8_t psdt = NVME_SQE_PSDT(req->cmd.flags);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    req->desc = &table[req->cmd.opcode];
    if (!req->desc->exec) {
        req->error_loc = NVME_LOC(0, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, true);
    }
    if (NVME_SQE_FUSE(req->cmd.flags)) {
        return nvme_invalid_field(req, NVME_LOC(1, 0));   /* no fused ops */
    }
    /* Admin commands use PRPs over PCIe (base 4.1.1); SGLs if offered. */
    if (psdt != NVME_PSDT_PRP &&
        (!req->sq->sqid || !ctrl->params.sgl || psdt > NVME_PSDT_SGL_MPTR_SGL)) {
        return nvme_invalid_field(req, NVME_LOC(1, 6));
    }
    if (req->desc->flags & NVME_CMDF_NS) {
        if (nsid == NVME_NSID_BROADCAST &&
            (req->desc->flags & NVME_CMDF_NS_BCAST)) {
            return NVME_OK;
        }
        if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
            return nvme_invalid_nsid(req);
        }
        req->ns = nvme_ctrl_ns(ctrl, nsid);
        if (!req->ns) {
            /* base 3.2.1.4: an inactive NSID is an invalid field */
            return nvme_invalid_field(req, NVME_LOC(4, 0));
        }
    }
    if ((req->desc->flags & NVME_CMDF_ANA) && req->ns) {
        return nvme_ana_check_io(ctrl, req->ns);
    }
    return NVME_OK;
}

static void nvme_req_init(NvmeRequest *req)
{
    req->ns = NULL;
    req->desc = NULL;
    req->status = NVME_OK;
    req->dw0 = 0;
    req->dw1 = 0;
    req->error_loc = NVME_LOC_NONE;
    req->error_lba = 0;
    req->aiocb = NULL;
    req->qsg_mapped = false;
    req->aio_inflight = 0;
    req->aio_ret = 0;
    req->opaque = NULL;
    req->stopped = false;
}

static void nvme_req_release(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;

    if (req->qsg_mapped) {
        qemu_sglist_destroy(&req->qsg);
        req->qsg_mapped = false;
    }
    g_free(req->opaque);
    req->opaque = NULL;
    req->aiocb = NULL;
    QTAILQ_INSERT_TAIL(&sq->free_reqs, req, entry);
}

void nvme_req_complete(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;
    NvmeCtrl *ctrl = sq->ctrl;
    NvmeCQueue *cq = ctrl->cq[sq->cqid];

    req->aiocb = NULL;
    QTAILQ_REMOVE(&sq->out_reqs, req, entry);
    if (ctrl->resetting) {
        /* the queues are going away: nothing is posted (base 3.7.2) */
        nvme_req_release(req);
        return;
    }
    if (sq->deleting && req->status == nvme_status(NVME_SCT_GENERIC,
                                                   NVME_SC_ABORT_REQUESTED,
                                                   false)) {
        req->status = NVME_STATUS(NVME_SCT_GENERIC,
                                  NVME_SC_ABORTED_SQ_DELETION);
    }
    if (req->status != NVME_OK) {
        trace_nvme_err_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                           req->desc && req->desc->name ? req->desc->name : "?",
                           req->status);
        nvme_error_log_add(ctrl, req);
    } else {
        trace_nvme_cmd_done(sq->sqid, nvme_cid(req), req->dw0);
    }
    QTAILQ_INSERT_TAIL(&cq->done_reqs, req, entry);
    qemu_bh_schedule(cq->bh);
}

/* With shadow doorbells the host's latest value lives in guest memory. */
static void nvme_sq_refresh_tail(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    uint32_t tail;

    if (!sq->shadow_db_addr ||
        pci_dma_read(PCI_DEVICE(ctrl), sq->shadow_db_addr, &tail,
                     sizeof(tail)) != MEMTX_OK) {
        return;
    }
    tail = le32_to_cpu(tail);
    if (tail < sq->size) {
        sq->tail = tail;
    }
}

/*
 * Tell the host how far we read (EventIdx, base 5.8), then look at the
 * shadow tail once more: a vCPU may have written it after our last read
 * and skipped the doorbell because the old EventIdx said so. Without this
 * second look such a submission waits until the next doorbell, forever if
 * none comes.
 */
static void nvme_sq_publish_event_idx(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    uint32_t idx = cpu_to_le32(sq->tail);
    uint32_t seen = sq->tail;

    if (!sq->shadow_ei_addr) {
        return;
    }
    pci_dma_write(PCI_DEVICE(ctrl), sq->shadow_ei_addr, &idx, sizeof(idx));
    smp_mb();
    nvme_sq_refresh_tail(ctrl, sq);
    if (sq->tail != seen) {
        qemu_bh_schedule(sq->bh);
    }
}

static void nvme_sq_bh(void *opaque)
{
    NvmeSQueue *sq = opaque;
    NvmeCtrl *ctrl = sq->ctrl;

    nvme_sq_refresh_tail(ctrl, sq);
    while (sq->head != sq->tail && nvme_ctrl_ready(ctrl) &&
           !QTAILQ_EMPTY(&sq->free_reqs)) {
        NvmeRequest *req = QTAILQ_FIRST(&sq->free_reqs);
        hwaddr addr = sq->dma_addr + (hwaddr)sq->head * NVME_SQE_SIZE;
        uint16_t status;

        if (!nvme_dma_read(ctrl, addr, &req->cmd, sizeof(req->cmd))) {
            nvme_fatal(ctrl, "submission queue entry not readable");
            return;
        }
        sq->head = (sq->head + 1) % sq->size;
        QTAILQ_REMOVE(&sq->free_reqs, req, entry);
        QTAILQ_INSERT_TAIL(&sq->out_reqs, req, entry);
        nvme_req_init(req);
        trace_nvme_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                       le32_to_cpu(req->cmd.nsid));

        status = nvme_parse_cmd(ctrl, req);
        if (status == NVME_OK) {
            status = req->desc->exec(ctrl, req);
        }
        if (status != NVME_NO_COMPLETE) {
            req->status = status;
            nvme_req_complete(req);
        }
        nvme_sq_refresh_tail(ctrl, sq);
    }
    nvme_sq_publish_event_idx(ctrl, sq);
}

static void nvme_cq_refresh_head(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    uint32_t head;

    if (!cq->shadow_db_addr ||
        pci_dma_read(PCI_DEVICE(ctrl), cq->shadow_db_addr, &head,
                     sizeof(head)) != MEMTX_OK) {
        return;
    }
    head = le32_to_cpu(head);
    if (head < cq->size) {
        cq->head = head;
    }
}

static bool nvme_cq_full(NvmeCQueue *cq)
{
    return (cq->tail + 1) % cq->size == cq->head;
}

static void nvme_cq_bh(void *opaque)
{
    NvmeCQueue *cq = opaque;
    NvmeCtrl *ctrl = cq->ctrl;
    bool posted = false;
    NvmeSQueue *sq;

    nvme_cq_refresh_head(ctrl, cq);
    while (!QTAILQ_EMPTY(&cq->done_reqs) && !nvme_cq_full(cq) &&
           !FIELD_EX32(ctrl->csts, NVME_CSTS, CFS)) {
        NvmeRequest *req = QTAILQ_FIRST(&cq->done_reqs);
        NvmeCqe cqe = {
            .dw0 = cpu_to_le32(req->dw0),
            .dw1 = cpu_to_le32(req->dw1),
            .sqhd = cpu_to_le16(req->sq->head),
            .sqid = cpu_to_le16(req->sq->sqid),
            .cid = req->cmd.cid,
            .status = cpu_to_le16((req->status << 1) | cq->phase),
        };
        hwaddr addr = cq->dma_addr + (hwaddr)cq->tail * NVME_CQE_SIZE;

        if (!nvme_dma_write(ctrl, addr, &cqe, sizeof(cqe))) {
            nvme_fatal(ctrl, "completion queue entry not writable");
            return;
        }
        cq->tail = (cq->tail + 1) % cq->size;
        if (cq->tail == 0) {
            cq->phase = !cq->phase;
        }
        QTAILQ_REMOVE(&cq->done_reqs, req, entry);
        nvme_req_release(req);
        posted = true;
    }
    if (!QTAILQ_EMPTY(&cq->done_reqs) && cq->shadow_ei_addr) {
        /*
         * Full: ask the host to ring the doorbell when it consumes entries
         * (EventIdx = the head we know, base 5.8), then look once more in
         * case it moved the shadow head meanwhile.
         */
        uint32_t idx = cpu_to_le32(cq->head);
        uint32_t head = cq->head;

        pci_dma_write(PCI_DEVICE(ctrl), cq->shadow_ei_addr, &idx, sizeof(idx));
        nvme_cq_refresh_head(ctrl, cq);
        if (cq->head != head) {
            qemu_bh_schedule(cq->bh);
        }
    }
    if (posted) {
        nvme_irq_raise(ctrl, cq);
        /* requests came free: SQs that ran out of them may go on (a
         * shadow tail may be ahead of what we know) */
        QTAILQ_FOREACH(sq, &cq->sqs, cq_link) {
            if (sq->head != sq->tail || sq->shadow_db_addr) {
                qemu_bh_schedule(sq->bh);
            }
        }
    }
}

/* ---- doorbells and registers ---------------------------------------------- */

/* base 5.2.1: a doorbell error without a command is reported by an event */
static void nvme_doorbell_error(NvmeCtrl *ctrl, uint8_t info, const char *why,
                                hwaddr offset, uint32_t value)
{
    nvme_guest_error(ctrl, "%s (doorbell 0x%" HWADDR_PRIx " value %u)", why,
                     offset, value);
    nvme_enqueue_event(ctrl, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR);
}

static void nvme_cq_doorbell(NvmeCtrl *ctrl, NvmeCQueue *cq, uint32_t head,
                             hwaddr offset)
{
    /* the new head must stay within the entries posted (tail included) */
    uint32_t posted = (cq->tail + cq->size - cq->head) % cq->size;
    uint32_t advance = (head + cq->size - cq->head) % cq->size;

    if (head >= cq->size || advance > posted) {
        nvme_doorbell_error(ctrl, NVME_AER_INFO_ERR_INVALID_DB_VALUE,
                            "completion queue head out of range", offset, head);
        return;
    }
    trace_nvme_db_cq(cq->cqid, head);
    cq->head = head;
    if (cq->shadow_db_addr) {
        uint32_t idx = cpu_to_le32(head);
        pci_dma_write(PCI_DEVICE(ctrl), cq->shadow_ei_addr, &idx, sizeof(idx));
    }
    if (cq->head == cq->tail) {
        nvme_irq_lower(ctrl, cq);
    }
    if (!QTAILQ_EMPTY(&cq->done_reqs)) {
        qemu_bh_schedule(cq->bh);
    }
}

static void nvme_doorbell_write(NvmeCtrl *ctrl, hwaddr offset, uint32_t value)
{
    unsigned stride_bits = 2 + FIELD_EX64(ctrl->cap, NVME_CAP, DSTRD);
    hwaddr index = offset >> stride_bits;
    uint16_t qid = index >> 1;
    bool is_cq = index & 1;

    if (!nvme_ctrl_ready(ctrl)) {
        nvme_guest_error(ctrl, "doorbell write while not ready");
        return;
    }
    if ((offset & ((1u << stride_bits) - 1)) || index / 2 > UINT16_MAX ||
        (is_cq ? !nvme_cqid_valid(ctrl, qid) : !nvme_sqid_valid(ctrl, qid))) {
        nvme_doorbell_error(ctrl, NVME_AER_INFO_ERR_INVALID_DB_REG,
                            "doorbell of a queue that does not exist",
                            offset, value);
        return;
    }
    if (is_cq) {
        nvme_cq_doorbell(ctrl, ctrl->cq[qid], value, offset);
        return;
    }
    if (value >= ctrl->sq[qid]->size) {
        nvme_doorbell_error(ctrl, NVME_AER_INFO_ERR_INVALID_DB_VALUE,
                            "submission queue tail out of range", offset,
                            value);
        return;
    }
    trace_nvme_db_sq(qid, value);
    ctrl->sq[qid]->tail = value;
    qemu_bh_schedule(ctrl->sq[qid]->bh);
}

/* Free every queue; in-flight AIO is cancelled and waited for first. */
static void nvme_free_queues(NvmeCtrl *ctrl)
{
    for (unsigned qid = 0; qid <= ctrl->params.max_ioqpairs; qid++) {
        if (ctrl->sq[qid]) {
            nvme_sq_cancel_aio(ctrl->sq[qid]);
        }
    }
    nvme_drain_namespaces(ctrl);
    for (int qid = ctrl->params.max_ioqpairs; qid >= 0; qid--) {
        if (ctrl->sq[qid]) {
            nvme_sq_free(ctrl, ctrl->sq[qid]);
        }
    }
    for (int qid = ctrl->params.max_ioqpairs; qid >= 0; qid--) {
        if (ctrl->cq[qid]) {
            nvme_cq_free(ctrl, ctrl->cq[qid]);
        }
    }
}

/* base 3.7.2: controller reset (CC.EN 1 -> 0, or a PCI reset) */
static void nvme_ctrl_reset(NvmeCtrl *ctrl)
{
    /* AERs are dropped without completion; their requests die with the SQ */
    ctrl->resetting = true;
    nvme_admin_reset(ctrl);
    nvme_free_queues(ctrl);
    ctrl->resetting = false;
    ctrl->stopped_reqs = 0;
    ctrl->dbbuf_enabled = false;
    ctrl->dbbuf_dbs = ctrl->dbbuf_eis = 0;
    ctrl->irq_status = 0;
    ctrl->intms = 0;
    nvme_irq_update_pin(ctrl);
    ctrl->csts = 0;
    trace_nvme_ctrl_reset();
}

/* base 3.5.1: CC.EN 0 -> 1; a bad admin queue setup is a fatal status */
static void nvme_ctrl_start(NvmeCtrl *ctrl)
{
    uint32_t mps = FIELD_EX32(ctrl->cc, NVME_CC, MPS);
    uint32_t css = FIELD_EX32(ctrl->cc, NVME_CC, CSS);
    uint32_t asqs = FIELD_EX32(ctrl->aqa, NVME_AQA, ASQS) + 1;
    uint32_t acqs = FIELD_EX32(ctrl->aqa, NVME_AQA, ACQS) + 1;
    uint32_t page_size = 1u << (12 + mps);
    const char *why = NULL;

    if (mps < FIELD_EX64(ctrl->cap, NVME_CAP, MPSMIN) ||
        mps > FIELD_EX64(ctrl->cap, NVME_CAP, MPSMAX)) {
        why = "CC.MPS outside CAP.MPSMIN..MPSMAX";
    } else if (css != NVME_CC_CSS_NVM && css != NVME_CC_CSS_IOCS) {
        why = "CC.CSS selects a command set we do not support";
    } else if (asqs < 2 || acqs < 2) {
        why = "AQA: admin queues need at least two entries";
    } else if (!ctrl->asq || !ctrl->acq ||
               ((ctrl->asq | ctrl->acq) & (page_size - 1))) {
        why = "ASQ/ACQ must be non-zero and page aligned";
    } else if (!nvme_addr_is_ram(ctrl, ctrl->asq, asqs * NVME_SQE_SIZE) ||
               !nvme_addr_is_ram(ctrl, ctrl->acq, acqs * NVME_CQE_SIZE)) {
        why = "ASQ/ACQ are not in guest RAM";
    }
    if (why) {
        nvme_fatal(ctrl, why);
        return;
    }
    ctrl->page_size = page_size;
    ctrl->page_bits = 12 + mps;
    nvme_cq_create(ctrl, NVME_ADMIN_QID, ctrl->acq, acqs, 0, true);
    nvme_sq_create(ctrl, NVME_ADMIN_QID, NVME_ADMIN_QID, ctrl->asq, asqs, 0);
    ctrl->shutdown_clean = false;
    ctrl->csts = FIELD_DP32(0, NVME_CSTS, RDY, 1);
    trace_nvme_ctrl_ready(page_size);
}

/* base 3.6.1: normal or abrupt shutdown; flush what the cache holds */
static void nvme_ctrl_shutdown(NvmeCtrl *ctrl)
{
    for (unsigned nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = ctrl->namespaces[nsid];
        if (ns) {
            blk_drain(nvme_ns_blk(ns));
            blk_flush(nvme_ns_blk(ns));
        }
    }
    ctrl->shutdown_clean = true;
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_COMPLETE);
}

static void nvme_write_cc(NvmeCtrl *ctrl, uint32_t value)
{
    bool was_enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);
    bool enable = FIELD_EX32(value, NVME_CC, EN);
    uint32_t shn = FIELD_EX32(value, NVME_CC, SHN);

    if (was_enabled && !enable) {
        nvme_ctrl_reset(ctrl);
    }
    if (was_enabled && enable) {
        /* only SHN may change while enabled (base 3.1.4.5) */
        value = FIELD_DP32(ctrl->cc, NVME_CC, SHN, shn);
    }
    ctrl->cc = value;
    if (!was_enabled && enable) {
        nvme_ctrl_start(ctrl);
    }
    if (shn != NVME_SHN_NONE) {
        nvme_ctrl_shutdown(ctrl);
    } else {
        ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_NORMAL);
    }
}

static uint32_t nvme_reg_read32(NvmeCtrl *ctrl, hwaddr offset)
{
    switch (offset) {
    case A_NVME_CAP:        return ctrl->cap;
    case A_NVME_CAP + 4:    return ctrl->cap >> 32;
    case A_NVME_VS:         return ctrl->vs;
    case A_NVME_INTMS:
    case A_NVME_INTMC:      return ctrl->intms;
    case A_NVME_CC:         return ctrl->cc;
    case A_NVME_CSTS:       return ctrl->csts;
    case A_NVME_AQA:        return ctrl->aqa;
    case A_NVME_ASQ:        return ctrl->asq;
    case A_NVME_ASQ + 4:    return ctrl->asq >> 32;
    case A_NVME_ACQ:        return ctrl->acq;
    case A_NVME_ACQ + 4:    return ctrl->acq >> 32;
    default:                return 0;   /* reserved, NSSR, CMB, doorbells */
    }
}

static uint64_t nvme_bar_read(void *opaque, hwaddr offset, unsigned size)
{
    NvmeCtrl *ctrl = opaque;
    uint64_t value;

    if (offset & (size - 1)) {
        nvme_guest_error(ctrl, "unaligned register read at 0x%" HWADDR_PRIx,
                         offset);
        return 0;
    }
    value = nvme_reg_read32(ctrl, offset);
    if (size == 8) {
        value |= (uint64_t)nvme_reg_read32(ctrl, offset + 4) << 32;
    }
    trace_nvme_mmio_read(offset, size, value);
    return value;
}

static void nvme_reg_write32(NvmeCtrl *ctrl, hwaddr offset, uint32_t value)
{
    bool enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);
    bool msix = msix_enabled(PCI_DEVICE(ctrl));

    switch (offset) {
    case A_NVME_INTMS:
    case A_NVME_INTMC:
        if (msix) {
            /* base 3.1.4.3: undefined while MSI-X is in use */
            nvme_guest_error(ctrl, "INTMS/INTMC written with MSI-X enabled");
            return;
        }
        ctrl->intms = offset == A_NVME_INTMS ? ctrl->intms | value
                                             : ctrl->intms & ~value;
        nvme_irq_update_pin(ctrl);
        return;
    case A_NVME_CC:
        nvme_write_cc(ctrl, value);
        return;
    case A_NVME_CSTS:
        /* NSSRO is write-1-to-clear; we never set it (no NSSR support) */
        return;
    case A_NVME_AQA:
    case A_NVME_ASQ:
    case A_NVME_ASQ + 4:
    case A_NVME_ACQ:
    case A_NVME_ACQ + 4:
        if (enabled) {
            nvme_guest_error(ctrl, "admin queue registers written while enabled");
            return;
        }
        if (offset == A_NVME_AQA) {
            ctrl->aqa = value & (R_NVME_AQA_ASQS_MASK | R_NVME_AQA_ACQS_MASK);
        } else {
            uint64_t *reg = offset < A_NVME_ACQ ? &ctrl->asq : &ctrl->acq;
            bool high = offset & 4;
            *reg = high ? deposit64(*reg, 32, 32, value)
                        : deposit64(*reg, 0, 32, value);
        }
        return;
    default:
        /* read-only or reserved registers, NSSR (CAP.NSSRS is 0) */
        nvme_guest_error(ctrl, "write to read-only/reserved register 0x%"
                         HWADDR_PRIx, offset);
        return;
    }
}

static void nvme_bar_write(void *opaque, hwaddr offset, uint64_t value,
                            unsigned size)
{
    NvmeCtrl *ctrl = opaque;

    trace_nvme_mmio_write(offset, size, value);
    if (offset & (size - 1)) {
        nvme_guest_error(ctrl, "unaligned register write at 0x%" HWADDR_PRIx,
                         offset);
        return;
    }
    if (offset >= NVME_REG_SIZE) {
        nvme_doorbell_write(ctrl, offset - NVME_REG_SIZE, value);
        return;
    }
    nvme_reg_write32(ctrl, offset, value);
    if (size == 8) {
        nvme_reg_write32(ctrl, offset + 4, value >> 32);
    }
}

/* Registers are 32 or 64 bits wide; narrower accesses are not valid. */
static const MemoryRegionOps nvme_bar_ops = {
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
    .endianness = DEVICE_LITTLE_ENDIAN,
    .read = nvme_bar_read,
    .write = nvme_bar_write,
};

/* ---- namespaces ----------------------------------------------------------- */

void nvme_ctrl_attach_ns(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    ctrl->namespaces[ns->nsid] = ns;
}

void nvme_ctrl_detach_ns(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    if (ctrl->namespaces[ns->nsid] == ns) {
        ctrl->namespaces[ns->nsid] = NULL;
    }
}

/* ---- device life cycle ---------------------------------------------------- */

static bool nvme_check_params(NvmeCtrl *ctrl, Error **errp)
{
    NvmeParams *p = &ctrl->params;

    if (!p->serial) {
        error_setg(errp, "nvme: 'serial' is required (up to 20 characters)");
        return false;
    }
    if (strlen(p->serial) > 20) {
        error_setg(errp, "nvme: 'serial' is longer than 20 characters");
        return false;
    }
    if (p->model && strlen(p->model) > 40) {
        error_setg(errp, "nvme: 'model' is longer than 40 characters");
        return false;
    }
    if (p->max_ioqpairs < 1 || p->max_ioqpairs > NVME_MAX_IOQPAIRS) {
        error_setg(errp, "nvme: 'max_ioqpairs' must be between 1 and %d",
                   NVME_MAX_IOQPAIRS);
        return false;
    }
    if (p->msix_qsize < 1 || p->msix_qsize > PCI_MSIX_FLAGS_QSIZE + 1) {
        error_setg(errp, "nvme: 'msix_qsize' must be between 1 and %d",
                   PCI_MSIX_FLAGS_QSIZE + 1);
        return false;
    }
    if (p->mqes < 1 || p->mqes >= NVME_MAX_QUEUE_ENTRIES) {
        error_setg(errp, "nvme: 'mqes' must be between 1 and %d",
                   NVME_MAX_QUEUE_ENTRIES - 1);
        return false;
    }
    if (p->mdts > 20) {
        error_setg(errp, "nvme: 'mdts' must be between 0 (no limit) and 20");
        return false;
    }
    return true;
}

static void nvme_init_regs(NvmeCtrl *ctrl)
{
    uint64_t cap = 0;

    cap = FIELD_DP64(cap, NVME_CAP, MQES, ctrl->params.mqes);
    cap = FIELD_DP64(cap, NVME_CAP, CQR, 1);
    cap = FIELD_DP64(cap, NVME_CAP, TO, 0xf);          /* 7.5 s */
    cap = FIELD_DP64(cap, NVME_CAP, DSTRD, 0);
    cap = FIELD_DP64(cap, NVME_CAP, CSS, NVME_CAP_CSS_NVM | NVME_CAP_CSS_IOCS);
    cap = FIELD_DP64(cap, NVME_CAP, MPSMIN, 0);        /* 4 KiB */
    cap = FIELD_DP64(cap, NVME_CAP, MPSMAX, 4);        /* 64 KiB */
    ctrl->cap = cap;
    ctrl->vs = NVME_VERSION(2, 0, 0);
    ctrl->page_size = 4096;
    ctrl->page_bits = 12;
}

static bool nvme_init_pci(NvmeCtrl *ctrl, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(ctrl);
    uint8_t *conf = pci->config;
    uint64_t bar_size;
    unsigned max_db = 2 * (ctrl->params.max_ioqpairs + 1) * 4;

    pci_config_set_prog_interface(conf, 0x2);          /* NVM Express */
    pci_config_set_class(conf, PCI_CLASS_STORAGE_EXPRESS);
    pci_config_set_vendor_id(conf, ctrl->params.use_intel_id ?
                             PCI_VENDOR_ID_INTEL : PCI_VENDOR_ID_REDHAT);
    pci_config_set_device_id(conf, ctrl->params.use_intel_id ?
                             0x5845 : PCI_DEVICE_ID_REDHAT_NVME);
    conf[PCI_INTERRUPT_PIN] = 1;
    pcie_endpoint_cap_init(pci, 0x80);

    /* BAR0: registers, doorbells; MSI-X table and PBA in BAR4 */
    bar_size = pow2ceil(NVME_REG_SIZE + max_db);
    memory_region_init_io(&ctrl->iomem, OBJECT(ctrl), &nvme_bar_ops, ctrl,
                          "nvme", bar_size);
    pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &ctrl->iomem);
    if (msix_init_exclusive_bar(pci, ctrl->params.msix_qsize, 4, errp)) {
        return false;
    }
    for (unsigned v = 0; v < ctrl->params.msix_qsize; v++) {
        msix_vector_use(pci, v);
    }
    return true;
}

static void nvme_retry_bh(void *opaque)
{
    nvme_io_retry_stopped(opaque);
}

/* rerror/werror=stop: requests wait for the VM to run again */
static void nvme_vm_state_change(void *opaque, bool running, RunState state)
{
    NvmeCtrl *ctrl = opaque;

    if (running && ctrl->stopped_reqs) {
        qemu_bh_schedule(ctrl->retry_bh);
    }
}

/* Without subsys= a controller is a subsystem of its own (NQN from serial). */
static bool nvme_join_subsys(NvmeCtrl *ctrl, Error **errp)
{
    NvmeSubsystem *subsys = ctrl->subsys;
    const char *model = ctrl->params.model ?: NVME_MODEL_DEFAULT;

    if (!subsys) {
        subsys = nvme_subsys_new_implicit(ctrl->params.serial, errp);
        if (!subsys) {
            return false;
        }
        ctrl->subsys = subsys;
        ctrl->own_subsys = true;
    }
    /* Every controller of a subsystem reports the same model (base 2.4). */
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        NvmeCtrl *other = subsys->ctrls[i];
        if (other && strcmp(other->params.model ?: NVME_MODEL_DEFAULT, model)) {
            error_setg(errp, "nvme: 'model' \"%s\" differs from \"%s\" of "
                       "another controller in subsystem '%s': controllers of "
                       "a subsystem have one model", model,
                       other->params.model ?: NVME_MODEL_DEFAULT,
                       subsys->subnqn);
            return false;
        }
    }
    if (!nvme_subsys_add_ctrl(subsys, ctrl, errp)) {
        return false;
    }
    pstrcpy(ctrl->subnqn, sizeof(ctrl->subnqn), subsys->subnqn);
    return true;
}

static void nvme_leave_subsys(NvmeCtrl *ctrl)
{
    if (!ctrl->subsys) {
        return;
    }
    nvme_subsys_remove_ctrl(ctrl->subsys, ctrl);
    if (ctrl->own_subsys) {
        object_unparent(OBJECT(ctrl->subsys));
        ctrl->subsys = NULL;
        ctrl->own_subsys = false;
    }
}

/* drive= gives the controller one namespace, NSID 1, as QEMU users know */
static bool nvme_add_drive_ns(NvmeCtrl *ctrl, Error **errp)
{
    DeviceState *dev = qdev_new(TYPE_NVME_NS);
    NvmeNamespace *ns = NVME_NS(dev);

    ns->blkconf = ctrl->drive_conf;
    ns->borrowed_blk = true;            /* attached to the controller */
    ns->nsid = 1;
    if (!qdev_realize_and_unref(dev, BUS(&ctrl->bus), errp)) {
        return false;
    }
    ctrl->drive_ns = ns;
    return true;
}

static void nvme_realize(PCIDevice *pci, Error **errp)
{
    NvmeCtrl *ctrl = NVME(pci);

    if (!nvme_check_params(ctrl, errp)) {
        return;
    }
    qbus_init(&ctrl->bus, sizeof(NvmeBus), TYPE_NVME_BUS, DEVICE(ctrl),
              DEVICE(ctrl)->id);
    nvme_init_regs(ctrl);
    if (!nvme_init_pci(ctrl, errp)) {
        return;
    }
    if (!nvme_join_subsys(ctrl, errp)) {
        msix_uninit_exclusive_bar(pci);
        return;
    }
    if (ctrl->drive_conf.blk && !nvme_add_drive_ns(ctrl, errp)) {
        nvme_leave_subsys(ctrl);
        msix_uninit_exclusive_bar(pci);
        return;
    }
    ctrl->sq = g_new0(NvmeSQueue *, ctrl->params.max_ioqpairs + 1);
    ctrl->cq = g_new0(NvmeCQueue *, ctrl->params.max_ioqpairs + 1);
    QSIMPLEQ_INIT(&ctrl->events);
    ctrl->retry_bh = qemu_bh_new_guarded(nvme_retry_bh, ctrl,
                                         &DEVICE(ctrl)->mem_reentrancy_guard);
    ctrl->vm_state = qemu_add_vm_change_state_handler(nvme_vm_state_change,
                                                      ctrl);
    ctrl->smart.power_on_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    ctrl->smart.power_cycles = 1;
    nvme_admin_init_ctrl(ctrl);
}

static void nvme_exit(PCIDevice *pci)
{
    NvmeCtrl *ctrl = NVME(pci);

    nvme_ctrl_reset(ctrl);              /* cancels and drains in-flight I/O */
    msix_uninit_exclusive_bar(pci);
    nvme_leave_subsys(ctrl);
    qemu_del_vm_change_state_handler(ctrl->vm_state);
    qemu_bh_delete(ctrl->retry_bh);
    g_free(ctrl->sq);
    g_free(ctrl->cq);
    g_free(ctrl->features.irq_coalesce_off);
}

static void nvme_pci_reset(DeviceState *dev)
{
    NvmeCtrl *ctrl = NVME(dev);

    nvme_ctrl_reset(ctrl);
    if (!ctrl->shutdown_clean && FIELD_EX32(ctrl->cc, NVME_CC, EN)) {
        ctrl->smart.unsafe_shutdowns++;
    }
    ctrl->cc = 0;
    ctrl->aqa = 0;
    ctrl->asq = ctrl->acq = 0;
}

static const Property nvme_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeCtrl, drive_conf),
    DEFINE_BLOCK_ERROR_PROPERTIES(NvmeCtrl, drive_conf),
    DEFINE_PROP_LINK("subsys", NvmeCtrl, subsys, TYPE_NVME_SUBSYS,
                     NvmeSubsystem *),
    DEFINE_PROP_STRING("serial", NvmeCtrl, params.serial),
    DEFINE_PROP_STRING("model", NvmeCtrl, params.model),
    DEFINE_PROP_UINT32("max_ioqpairs", NvmeCtrl, params.max_ioqpairs, 64),
    DEFINE_PROP_UINT16("msix_qsize", NvmeCtrl, params.msix_qsize, 65),
    DEFINE_PROP_UINT8("mdts", NvmeCtrl, params.mdts, 7),
    DEFINE_PROP_UINT32("mqes", NvmeCtrl, params.mqes, NVME_MAX_QUEUE_ENTRIES - 1),
    DEFINE_PROP_BOOL("ioeventfd", NvmeCtrl, params.ioeventfd, false),
    DEFINE_PROP_BOOL("sgl", NvmeCtrl, params.sgl, true),
    DEFINE_PROP_BOOL("use-intel-id", NvmeCtrl, params.use_intel_id, false),
};

/* Live migration of queues and in-flight requests is not implemented. */
static const VMStateDescription nvme_vmstate = {
    .name = "nvme",
    .unmigratable = 1,
};

static void nvme_get_temperature(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    NvmeCtrl *ctrl = NVME(obj);

    visit_type_uint16(v, name, &ctrl->params.temperature, errp);
}

/* Settable at run time, so tests can cross the thresholds (SMART events). */
static void nvme_set_temperature(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    NvmeCtrl *ctrl = NVME(obj);
    uint16_t kelvin;

    if (!visit_type_uint16(v, name, &kelvin, errp)) {
        return;
    }
    ctrl->params.temperature = kelvin;
    if (DEVICE(obj)->realized) {
        nvme_smart_check_temperature(ctrl);
    }
}

static void nvme_instance_init(Object *obj)
{
    NVME(obj)->params.temperature = NVME_DEFAULT_TEMP_K;
}

static void nvme_class_init(ObjectClass *oc, void *data)
{
    PCIDeviceClass *pci_class = PCI_DEVICE_CLASS(oc);
    DeviceClass *dc = DEVICE_CLASS(oc);

    pci_class->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pci_class->revision = 2;
    pci_class->realize = nvme_realize;
    pci_class->exit = nvme_exit;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "NVM Express controller (our model: subsystems, shared "
               "namespaces, ANA)";
    dc->vmsd = &nvme_vmstate;
    device_class_set_props(dc, nvme_props);
    device_class_set_legacy_reset(dc, nvme_pci_reset);
    object_class_property_set_description(oc, "serial",
        "Serial Number (SN) in Identify Controller; required, up to 20 chars");
    object_class_property_set_description(oc, "subsys",
        "The nvme-subsys this controller belongs to (default: a subsystem of "
        "its own, NQN " NVME_NQN_PREFIX "<serial>)");
    object_class_property_set_description(oc, "model",
        "Model Number (MN); default \"" NVME_MODEL_DEFAULT "\"");
    object_class_property_set_description(oc, "max_ioqpairs",
        "I/O submission/completion queue pairs the host may create (1-256)");
    object_class_property_set_description(oc, "msix_qsize",
        "MSI-X vectors (table size); I/O CQs may use vectors below this");
    object_class_property_set_description(oc, "mdts",
        "Maximum Data Transfer Size, as a power of two of 4 KiB pages "
        "(0: no limit)");
    object_class_property_set_description(oc, "mqes",
        "CAP.MQES: largest queue size, 0's based (1-2047)");
    object_class_property_set_description(oc, "ioeventfd",
        "Doorbells of I/O queues signal an eventfd when shadow doorbells "
        "(Doorbell Buffer Config) are in use");
    object_class_property_set_description(oc, "sgl",
        "Offer Scatter Gather Lists for I/O commands (Identify SGLS)");
    object_class_property_set_description(oc, "use-intel-id",
        "Use Intel's PCI vendor/device id instead of Red Hat's 1b36:0010");
    object_class_property_add(oc, "smart-temperature", "uint16",
                              nvme_get_temperature, nvme_set_temperature,
                              NULL, NULL);
    object_class_property_set_description(oc, "smart-temperature",
        "Composite temperature in kelvin reported in the SMART log; may be "
        "changed at run time (qom-set) to cross thresholds");
}

static const TypeInfo nvme_types[] = {
    {
        .name = TYPE_NVME,
        .parent = TYPE_PCI_DEVICE,
        .class_init = nvme_class_init,
        .interfaces = (InterfaceInfo[]) { { INTERFACE_PCIE_DEVICE }, { } },
        .instance_size = sizeof(NvmeCtrl),
        .instance_init = nvme_instance_init,
    },
    {
        .name = TYPE_NVME_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(NvmeBus),
    },
};

DEFINE_TYPES(nvme_types)
