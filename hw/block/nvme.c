/*
 * NVMe controller: the PCI function, its registers, queues and the life of
 * a request. Admin command handlers live in nvme-admin.c, the NVM command
 * set in nvme-io.c, namespaces in nvme-ns.c.
 *
 * Map of this file, in the order a command travels (NVMe Base 2.0; data
 * pointers, PRPs and SGLs, are mapped in nvme-dma.c; the admin commands
 * that create and delete queues are in nvme-queue.c):
 *
 *   queues             create and free SQs and CQs, shadow doorbells.
 *   parse              nvme_parse_cmd: descriptor lookup, then the shared
 *                      gates in a fixed order (opcode, FUSE/PSDT, NSID, ANA).
 *   lifecycle          FREE -> ACTIVE (nvme_req_start) -> DONE
 *                      (nvme_req_complete, the only exit: resources released,
 *                      error log, trace) -> FREE once posted. See nvme.h.
 *   AIO                nvme_aio_submit: every block layer request, counted
 *                      per SQ, controller and namespace; the drive's error
 *                      policy; the retry after werror=stop.
 *   bounce memory      a controller-wide budget commands borrow from.
 *   SQ bottom half     nvme_sq_bh: fetch SQEs, parse, execute.
 *   CQ bottom half     nvme_cq_post: write CQEs with the phase tag, recycle
 *                      the requests, raise the interrupt.
 *   doorbells          nvme_doorbell_write: record the new tail/head and
 *                      schedule a bottom half; no command runs in MMIO.
 *   teardown           Delete I/O SQ and controller reset end what waits,
 *                      refuse new AIO and finish (free) when the last AIO is
 *                      over; no drain under a guest's control.
 *   registers, device life cycle.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qemu/memalign.h"
#include "qemu/host-utils.h"
#include "block/aio-wait.h"
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

/* Does the controller process commands? Not once a reset has begun. */
static bool nvme_ctrl_ready(NvmeCtrl *ctrl)
{
    return FIELD_EX32(ctrl->csts, NVME_CSTS, RDY) &&
           !FIELD_EX32(ctrl->csts, NVME_CSTS, CFS) && !ctrl->resetting;
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

/* A queue the host may use: created and not being deleted */
bool nvme_sqid_valid(NvmeCtrl *ctrl, uint16_t sqid)
{
    return sqid <= ctrl->params.max_ioqpairs && ctrl->sq[sqid] &&
           !ctrl->sq[sqid]->deleting;
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

/*
 * Shadow doorbells and EventIdx entries (base 5.8) live in guest memory
 * the host may remap at any time: every access checks it is still RAM.
 */
static bool nvme_shadow_read(NvmeCtrl *ctrl, uint64_t addr, uint32_t *value)
{
    return addr && nvme_addr_is_ram(ctrl, addr, sizeof(*value), false) &&
           ldl_le_pci_dma(PCI_DEVICE(ctrl), addr, value,
                          MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

static void nvme_shadow_write(NvmeCtrl *ctrl, uint64_t addr, uint32_t value)
{
    if (addr && nvme_addr_is_ram(ctrl, addr, sizeof(value), true)) {
        stl_le_pci_dma(PCI_DEVICE(ctrl), addr, value, MEMTXATTRS_UNSPECIFIED);
    }
}

static void nvme_sq_bh(void *opaque);
static void nvme_cq_bh(void *opaque);

/*
 * An eventfd doorbell only says that the host rang; the bottom half reads
 * the value from the shadow doorbell. The handler itself never runs the
 * queue: the bottom half is guarded against re-entrant MMIO.
 */
static void nvme_sq_notifier(EventNotifier *e)
{
    NvmeSQueue *sq = container_of(e, NvmeSQueue, notifier);

    if (event_notifier_test_and_clear(e)) {
        qemu_bh_schedule(sq->bh);
    }
}

static void nvme_cq_notifier(EventNotifier *e)
{
    NvmeCQueue *cq = container_of(e, NvmeCQueue, notifier);

    if (event_notifier_test_and_clear(e)) {
        qemu_bh_schedule(cq->bh);
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

void nvme_sq_init_shadow(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    hwaddr off = nvme_db_offset(ctrl, sq->sqid, false);

    sq->shadow_db_addr = ctrl->dbbuf_dbs + off;
    sq->shadow_ei_addr = ctrl->dbbuf_eis + off;
    if (!sq->ioeventfd) {
        sq->ioeventfd = nvme_attach_ioeventfd(ctrl, &sq->notifier, off,
                                              nvme_sq_notifier);
    }
    /* the host may have written the shadow tail already: look at it */
    qemu_bh_schedule(sq->bh);
}

void nvme_cq_init_shadow(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    hwaddr off = nvme_db_offset(ctrl, cq->cqid, true);

    cq->shadow_db_addr = ctrl->dbbuf_dbs + off;
    cq->shadow_ei_addr = ctrl->dbbuf_eis + off;
    if (!cq->ioeventfd) {
        cq->ioeventfd = nvme_attach_ioeventfd(ctrl, &cq->notifier, off,
                                              nvme_cq_notifier);
    }
    nvme_shadow_write(ctrl, cq->shadow_ei_addr, cq->head);
    qemu_bh_schedule(cq->bh);
}

void nvme_sq_create(NvmeCtrl *ctrl, uint16_t sqid, uint16_t cqid,
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
        NvmeRequest *req = &sq->reqs[i];

        req->sq = sq;
        req->state = NVME_REQ_FREE;
        qemu_iovec_init(&req->iov, 4);
        QTAILQ_INSERT_TAIL(&sq->free_reqs, req, entry);
    }
    sq->bh = qemu_bh_new_guarded(nvme_sq_bh, sq,
                                 &DEVICE(ctrl)->mem_reentrancy_guard);
    QTAILQ_INSERT_TAIL(&cq->sqs, sq, cq_link);
    ctrl->sq[sqid] = sq;
    if (sqid && ctrl->dbbuf_enabled) {
        nvme_sq_init_shadow(ctrl, sq);
    }
    trace_nvme_sq_create(sqid, cqid, size, dma_addr);
}

void nvme_cq_create(NvmeCtrl *ctrl, uint16_t cqid, uint64_t dma_addr,
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
    ctrl->cq[cqid] = cq;
    if (cqid && ctrl->dbbuf_enabled) {
        nvme_cq_init_shadow(ctrl, cq);
    }
    trace_nvme_cq_create(cqid, size, dma_addr, vector, irq_enabled);
}

/*
 * Free a submission queue. Its teardown has ended every request it had
 * running; completions still waiting for room in the CQ are dropped.
 */
static void nvme_sq_free(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    NvmeCQueue *cq = ctrl->cq[sq->cqid];
    NvmeRequest *req, *next;

    assert(QTAILQ_EMPTY(&sq->out_reqs) && sq->nr_aio == 0);
    if (sq->ioeventfd) {
        nvme_detach_ioeventfd(ctrl, &sq->notifier,
                              nvme_db_offset(ctrl, sq->sqid, false));
    }
    QTAILQ_FOREACH_SAFE(req, &cq->done_reqs, entry, next) {
        if (req->sq == sq) {
            QTAILQ_REMOVE(&cq->done_reqs, req, entry);
        }
    }
    QTAILQ_REMOVE(&cq->sqs, sq, cq_link);
    qemu_bh_delete(sq->bh);
    ctrl->sq[sq->sqid] = NULL;
    for (uint32_t i = 0; i < sq->size; i++) {
        qemu_iovec_destroy(&sq->reqs[i].iov);
    }
    g_free(sq->reqs);
    g_free(sq);
}

void nvme_cq_free(NvmeCtrl *ctrl, NvmeCQueue *cq)
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

/* ---- the request lifecycle ------------------------------------------------ */

/* FREE -> ACTIVE: a fetched command starts with a clean request */
static void nvme_req_start(NvmeRequest *req)
{
    assert(req->state == NVME_REQ_FREE);
    QTAILQ_REMOVE(&req->sq->free_reqs, req, entry);
    QTAILQ_INSERT_TAIL(&req->sq->out_reqs, req, entry);
    req->state = NVME_REQ_ACTIVE;
    req->park = NVME_PARK_NONE;
    req->ns = NULL;
    req->desc = NULL;
    req->status = NVME_OK;
    req->dw0 = 0;
    req->dw1 = 0;
    req->error_loc = NVME_LOC_NONE;
    req->error_lba = 0;
    req->abort_requested = false;
    req->aiocb = NULL;
    memset(&req->aio, 0, sizeof(req->aio));
    req->resume = NULL;
    req->acct_ns = NULL;
    assert(!req->iov_mapped && !req->bounce);
}

/* DONE (or ACTIVE, in a reset) -> FREE */
static void nvme_req_free(NvmeRequest *req)
{
    req->state = NVME_REQ_FREE;
    QTAILQ_INSERT_TAIL(&req->sq->free_reqs, req, entry);
}

static void nvme_bounce_put(NvmeCtrl *ctrl, NvmeRequest *req);

void nvme_req_complete(NvmeRequest *req, uint16_t status)
{
    NvmeSQueue *sq = req->sq;
    NvmeCtrl *ctrl = sq->ctrl;
    NvmeCQueue *cq = ctrl->cq[sq->cqid];

    assert(req->state == NVME_REQ_ACTIVE && !req->aiocb &&
           req->park == NVME_PARK_NONE);
    if (req->abort_requested) {
        status = nvme_status(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED, false);
    }
    req->status = status;
    /* a DONE request holds nothing: a CQ the host never reads pins no memory */
    if (req->desc && req->desc->release) {
        req->desc->release(ctrl, req);
    }
    nvme_unmap_data(ctrl, req);
    nvme_bounce_put(ctrl, req);
    req->ns = NULL;
    QTAILQ_REMOVE(&sq->out_reqs, req, entry);
    if (ctrl->resetting) {
        /* the queues are going away: nothing is posted (base 3.7.2) */
        nvme_req_free(req);
        return;
    }
    if (status != NVME_OK) {
        trace_nvme_err_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                           req->desc && req->desc->name ? req->desc->name : "?",
                           status);
        nvme_error_log_add(ctrl, req);
    } else {
        trace_nvme_cmd_done(sq->sqid, nvme_cid(req), req->dw0);
    }
    req->state = NVME_REQ_DONE;
    QTAILQ_INSERT_TAIL(&cq->done_reqs, req, entry);
    qemu_bh_schedule(cq->bh);
}

uint16_t nvme_req_teardown_status(NvmeRequest *req, NvmeNamespace *ns)
{
    if (req->sq->ctrl->resetting || req->abort_requested) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED, false);
    }
    if (req->sq->deleting) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION,
                           false);
    }
    if (ns && ns->removing) {
        /* the namespace is gone for good (unplugged) */
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_NSID, true);
    }
    return NVME_OK;
}

void nvme_req_park(NvmeRequest *req, NvmeReqPark why)
{
    assert(req->state == NVME_REQ_ACTIVE && !req->aiocb &&
           req->park == NVME_PARK_NONE && why != NVME_PARK_NONE);
    req->park = why;
    if (why == NVME_PARK_STOPPED) {
        req->sq->ctrl->nr_stopped++;
    }
}

void nvme_req_unpark(NvmeRequest *req)
{
    NvmeCtrl *ctrl = req->sq->ctrl;

    assert(req->state == NVME_REQ_ACTIVE && req->park != NVME_PARK_NONE);
    switch (req->park) {
    case NVME_PARK_STOPPED:
        ctrl->nr_stopped--;
        break;
    case NVME_PARK_BOUNCE:
        QTAILQ_REMOVE(&ctrl->bounce_waiters, req, wait_entry);
        break;
    case NVME_PARK_AER:
        nvme_aer_unlist(ctrl, req);
        break;
    case NVME_PARK_DELETE_SQ:
    case NVME_PARK_NONE:
        break;
    }
    req->park = NVME_PARK_NONE;
}

void nvme_req_end_parked(NvmeRequest *req, uint16_t status)
{
    nvme_req_unpark(req);
    nvme_req_complete(req, status);
}

/* ---- AIO: every block layer request of a command -------------------------- */

static void nvme_teardown_kick(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    if ((ctrl->resetting && !ctrl->nr_aio) ||
        (sq && sq->deleting && !sq->nr_aio)) {
        qemu_bh_schedule(ctrl->teardown_bh);
    }
}

/*
 * The drive's rerror/werror policy for a failed AIO: report the error,
 * ignore it (*ret becomes 0), or stop the VM and park the request until
 * it runs again. True if the request stopped. A request whose queue,
 * controller or namespace is going away never stops: it reports.
 */
static bool nvme_aio_error_stops(NvmeCtrl *ctrl, NvmeRequest *req, int *ret)
{
    BlockBackend *blk = nvme_ns_blk(req->aio.ns);
    bool is_read = req->aio.kind == NVME_AIO_READ;
    BlockErrorAction action;

    if (*ret == -ECANCELED) {
        return false;
    }
    action = blk_get_error_action(blk, is_read, -*ret);
    if (action == BLOCK_ERROR_ACTION_STOP &&
        nvme_req_teardown_status(req, req->aio.ns)) {
        action = BLOCK_ERROR_ACTION_REPORT;
    }
    trace_nvme_io_error(nvme_cid(req), req->cmd.opcode, *ret, action);
    blk_error_action(blk, action, is_read, -*ret);
    if (action == BLOCK_ERROR_ACTION_IGNORE) {
        *ret = 0;
    }
    if (action != BLOCK_ERROR_ACTION_STOP) {
        return false;
    }
    nvme_req_park(req, NVME_PARK_STOPPED);
    return true;
}

static void nvme_aio_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeSQueue *sq = req->sq;
    NvmeCtrl *ctrl = sq->ctrl;

    assert(req->state == NVME_REQ_ACTIVE && req->aiocb);
    req->aiocb = NULL;
    sq->nr_aio--;
    ctrl->nr_aio--;
    req->aio.ns->nr_aio--;
    if (ret >= 0 || !nvme_aio_error_stops(ctrl, req, &ret)) {
        /* the command goes on, or completes; req may be DONE after this */
        req->aio.done(req, ret);
    }
    nvme_teardown_kick(ctrl, sq);
}

uint16_t nvme_aio_submit(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;
    NvmeAio *aio = &req->aio;
    BlockBackend *blk = nvme_ns_blk(aio->ns);
    uint16_t status = nvme_req_teardown_status(req, aio->ns);

    assert(req->state == NVME_REQ_ACTIVE && !req->aiocb &&
           req->park == NVME_PARK_NONE);
    if (status) {
        return status;
    }
    sq->nr_aio++;
    sq->ctrl->nr_aio++;
    aio->ns->nr_aio++;
    switch (aio->kind) {
    case NVME_AIO_READ:
        req->aiocb = blk_aio_preadv(blk, aio->offset, aio->qiov, 0,
                                    nvme_aio_cb, req);
        break;
    case NVME_AIO_WRITE:
        req->aiocb = blk_aio_pwritev(blk, aio->offset, aio->qiov, aio->flags,
                                     nvme_aio_cb, req);
        break;
    case NVME_AIO_ZEROES:
        req->aiocb = blk_aio_pwrite_zeroes(blk, aio->offset, aio->bytes,
                                           aio->flags, nvme_aio_cb, req);
        break;
    case NVME_AIO_FLUSH:
        req->aiocb = blk_aio_flush(blk, nvme_aio_cb, req);
        break;
    }
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_aio_start(NvmeRequest *req, NvmeAioKind kind,
                               NvmeNamespace *ns, int64_t offset,
                               int64_t bytes, QEMUIOVector *qiov,
                               BdrvRequestFlags flags, NvmeAioDone done)
{
    req->aio = (NvmeAio) {
        .kind = kind, .ns = ns, .offset = offset, .bytes = bytes,
        .qiov = qiov, .flags = flags, .done = done,
    };
    return nvme_aio_submit(req);
}

uint16_t nvme_aio_read(NvmeRequest *req, NvmeNamespace *ns, int64_t offset,
                       QEMUIOVector *qiov, NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_READ, ns, offset, qiov->size, qiov,
                          0, done);
}

uint16_t nvme_aio_write(NvmeRequest *req, NvmeNamespace *ns, int64_t offset,
                        QEMUIOVector *qiov, BdrvRequestFlags flags,
                        NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_WRITE, ns, offset, qiov->size, qiov,
                          flags, done);
}

uint16_t nvme_aio_zeroes(NvmeRequest *req, NvmeNamespace *ns, int64_t offset,
                         int64_t bytes, BdrvRequestFlags flags,
                         NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_ZEROES, ns, offset, bytes, NULL,
                          flags, done);
}

uint16_t nvme_aio_flush(NvmeRequest *req, NvmeNamespace *ns, NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_FLUSH, ns, 0, 0, NULL, 0, done);
}

/* The VM runs again after rerror/werror=stop: issue the stopped AIO again */
static void nvme_retry_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;

    for (unsigned qid = 0; qid <= ctrl->params.max_ioqpairs &&
         ctrl->nr_stopped; qid++) {
        NvmeSQueue *sq = ctrl->sq[qid];
        NvmeRequest *req, *next;

        if (!sq) {
            continue;
        }
        QTAILQ_FOREACH_SAFE(req, &sq->out_reqs, entry, next) {
            uint16_t status;

            if (req->park != NVME_PARK_STOPPED) {
                continue;
            }
            nvme_req_unpark(req);
            status = nvme_aio_submit(req);
            if (status != NVME_NO_COMPLETE) {
                nvme_req_complete(req, status);
            }
        }
    }
}

/* ---- bounce memory -------------------------------------------------------- */

/*
 * What every command of one controller may borrow at a time. Commands use
 * it in bounded chunks (NVME_BOUNCE_CHUNK), so a host that submits many
 * of them, or never consumes their completions, makes them wait in turn
 * instead of growing QEMU.
 */
#define NVME_BOUNCE_BUDGET      (8 * MiB)

bool nvme_bounce_get(NvmeRequest *req, size_t len, NvmeReqResume resume)
{
    NvmeCtrl *ctrl = req->sq->ctrl;

    assert(!req->bounce && len <= NVME_BOUNCE_BUDGET);
    req->bounce_len = len;
    /* first come, first served; a request being torn down never waits */
    if ((ctrl->bounce_used + len > NVME_BOUNCE_BUDGET ||
         !QTAILQ_EMPTY(&ctrl->bounce_waiters)) &&
        !nvme_req_teardown_status(req, req->ns)) {
        req->resume = resume;
        nvme_req_park(req, NVME_PARK_BOUNCE);
        QTAILQ_INSERT_TAIL(&ctrl->bounce_waiters, req, wait_entry);
        return false;
    }
    req->bounce = qemu_memalign(4 * KiB, len);  /* O_DIRECT friendly */
    ctrl->bounce_used += len;
    return true;
}

static void nvme_bounce_put(NvmeCtrl *ctrl, NvmeRequest *req)
{
    if (!req->bounce) {
        return;
    }
    qemu_vfree(req->bounce);
    req->bounce = NULL;
    ctrl->bounce_used -= req->bounce_len;
    if (!QTAILQ_EMPTY(&ctrl->bounce_waiters)) {
        qemu_bh_schedule(ctrl->bounce_bh);
    }
}

static void nvme_bounce_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;
    NvmeRequest *req;

    while ((req = QTAILQ_FIRST(&ctrl->bounce_waiters)) &&
           ctrl->bounce_used + req->bounce_len <= NVME_BOUNCE_BUDGET) {
        nvme_req_unpark(req);
        req->bounce = qemu_memalign(4 * KiB, req->bounce_len);
        ctrl->bounce_used += req->bounce_len;
        req->resume(req);
    }
}

/* ---- submission and completion queues: the bottom halves ----------------- */

/* With shadow doorbells the host's latest tail lives in guest memory. */
static void nvme_sq_refresh_tail(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    uint32_t tail;

    if (nvme_shadow_read(ctrl, sq->shadow_db_addr, &tail) && tail < sq->size) {
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
    uint32_t seen = sq->tail;

    if (!sq->shadow_ei_addr) {
        return;
    }
    nvme_shadow_write(ctrl, sq->shadow_ei_addr, seen);
    smp_mb();   /* EventIdx visible before the shadow tail is read again */
    nvme_sq_refresh_tail(ctrl, sq);
    if (sq->tail != seen) {
        qemu_bh_schedule(sq->bh);
    }
}

/* May this queue's commands be fetched? Not while it or the controller
 * is being torn down (base 3.7.2, 5.7). */
static bool nvme_sq_fetching(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    return nvme_ctrl_ready(ctrl) && !sq->deleting;
}

static void nvme_sq_bh(void *opaque)
{
    NvmeSQueue *sq = opaque;
    NvmeCtrl *ctrl = sq->ctrl;

    if (!nvme_sq_fetching(ctrl, sq)) {
        return;
    }
    nvme_sq_refresh_tail(ctrl, sq);
    while (sq->head != sq->tail && !QTAILQ_EMPTY(&sq->free_reqs)) {
        NvmeRequest *req = QTAILQ_FIRST(&sq->free_reqs);
        hwaddr addr = sq->dma_addr + (hwaddr)sq->head * NVME_SQE_SIZE;
        uint16_t status;

        if (!nvme_dma_read(ctrl, addr, &req->cmd, sizeof(req->cmd))) {
            nvme_fatal(ctrl, "submission queue entry not readable");
            return;
        }
        sq->head = (sq->head + 1) % sq->size;
        nvme_req_start(req);
        trace_nvme_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                       le32_to_cpu(req->cmd.nsid));

        status = nvme_parse_cmd(ctrl, req);
        if (status == NVME_OK) {
            status = req->desc->exec(ctrl, req);
        }
        if (status != NVME_NO_COMPLETE) {
            nvme_req_complete(req, status);
        }
        if (!nvme_sq_fetching(ctrl, sq)) {
            return;
        }
        nvme_sq_refresh_tail(ctrl, sq);
    }
    nvme_sq_publish_event_idx(ctrl, sq);
}

/* base 5.2.1: a doorbell error without a command is reported by an event */
static void nvme_doorbell_error(NvmeCtrl *ctrl, uint8_t info, const char *why,
                                hwaddr offset, uint32_t value)
{
    nvme_guest_error(ctrl, "%s (doorbell 0x%" HWADDR_PRIx " value %u)", why,
                     offset, value);
    nvme_enqueue_event(ctrl, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR);
}

/*
 * The host moved a CQ head, by MMIO or by shadow doorbell: one path for
 * both. The new head must stay within the entries posted (tail included).
 */
static bool nvme_cq_set_head(NvmeCtrl *ctrl, NvmeCQueue *cq, uint32_t head)
{
    uint32_t posted = (cq->tail + cq->size - cq->head) % cq->size;
    uint32_t advance = (head + cq->size - cq->head) % cq->size;

    if (head >= cq->size || advance > posted) {
        nvme_doorbell_error(ctrl, NVME_AER_INFO_ERR_INVALID_DB_VALUE,
                            "completion queue head out of range",
                            nvme_db_offset(ctrl, cq->cqid, true), head);
        return false;
    }
    trace_nvme_db_cq(cq->cqid, head);
    cq->head = head;
    nvme_shadow_write(ctrl, cq->shadow_ei_addr, head);
    if (cq->head == cq->tail) {
        nvme_irq_lower(ctrl, cq);
    }
    return true;
}

static void nvme_cq_refresh_head(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    uint32_t head;

    if (nvme_shadow_read(ctrl, cq->shadow_db_addr, &head) && head != cq->head) {
        nvme_cq_set_head(ctrl, cq, head);
    }
}

static bool nvme_cq_full(NvmeCQueue *cq)
{
    return (cq->tail + 1) % cq->size == cq->head;
}

/*
 * Post what waits for the CQ, as far as it has room. Nothing is posted
 * while the controller resets. The interrupt comes last: an MSI-X message
 * may be aimed at any device, and nothing here is touched after it.
 */
static void nvme_cq_post(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    bool posted = false;
    NvmeSQueue *sq;

    if (ctrl->resetting) {
        return;
    }
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

        assert(req->state == NVME_REQ_DONE);
        if (!nvme_dma_write(ctrl, addr, &cqe, sizeof(cqe))) {
            nvme_fatal(ctrl, "completion queue entry not writable");
            return;
        }
        cq->tail = (cq->tail + 1) % cq->size;
        if (cq->tail == 0) {
            cq->phase = !cq->phase;
        }
        QTAILQ_REMOVE(&cq->done_reqs, req, entry);
        nvme_req_free(req);
        posted = true;
    }
    if (!QTAILQ_EMPTY(&cq->done_reqs) && cq->shadow_ei_addr) {
        /*
         * Full: ask the host to ring the doorbell when it consumes entries
         * (EventIdx = the head we know, base 5.8), then look once more in
         * case it moved the shadow head meanwhile.
         */
        uint32_t head = cq->head;

        nvme_shadow_write(ctrl, cq->shadow_ei_addr, head);
        nvme_cq_refresh_head(ctrl, cq);
        if (cq->head != head) {
            qemu_bh_schedule(cq->bh);
        }
    }
    if (posted) {
        /* requests came free: SQs that ran out of them may go on (a
         * shadow tail may be ahead of what we know) */
        QTAILQ_FOREACH(sq, &cq->sqs, cq_link) {
            if (!sq->deleting && (sq->head != sq->tail || sq->shadow_db_addr)) {
                qemu_bh_schedule(sq->bh);
            }
        }
        nvme_irq_raise(ctrl, cq);
    }
}

static void nvme_cq_bh(void *opaque)
{
    NvmeCQueue *cq = opaque;

    nvme_cq_post(cq->ctrl, cq);
}

/* ---- doorbells ------------------------------------------------------------ */

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
        NvmeCQueue *cq = ctrl->cq[qid];

        if (nvme_cq_set_head(ctrl, cq, value) &&
            !QTAILQ_EMPTY(&cq->done_reqs)) {
            qemu_bh_schedule(cq->bh);
        }
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

/* ---- teardown: Delete I/O SQ, controller reset, namespace removal --------- */

/* End every parked request of @sq (their AIO, if any, is not parked) */
static void nvme_sq_end_parked(NvmeSQueue *sq, uint16_t status)
{
    NvmeRequest *req, *next;

    QTAILQ_FOREACH_SAFE(req, &sq->out_reqs, entry, next) {
        if (req->park != NVME_PARK_NONE) {
            nvme_req_end_parked(req, status);
        }
    }
}

/*
 * base 5.7: the queue's completions are posted, as far as its CQ has room,
 * before the Delete completes; the rest are lost with the queue.
 */
static void nvme_sq_delete_finish(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    NvmeRequest *del = sq->delete_req;

    nvme_cq_post(ctrl, ctrl->cq[sq->cqid]);
    trace_nvme_sq_delete(sq->sqid);
    nvme_sq_free(ctrl, sq);
    if (del) {
        nvme_req_end_parked(del, NVME_OK);
    }
}

/*
 * Delete I/O SQ @sq for @req. Commands that wait end at once, those with
 * AIO end when it does (their remaining steps aborted); the queue is freed
 * and @req completed after the last one. NVME_OK if that is already now.
 */
uint16_t nvme_sq_delete(NvmeCtrl *ctrl, NvmeSQueue *sq, NvmeRequest *req)
{
    sq->deleting = true;
    nvme_sq_end_parked(sq, nvme_status(NVME_SCT_GENERIC,
                                       NVME_SC_ABORTED_SQ_DELETION, false));
    if (sq->nr_aio) {
        sq->delete_req = req;
        nvme_req_park(req, NVME_PARK_DELETE_SQ);
        return NVME_NO_COMPLETE;
    }
    nvme_sq_delete_finish(ctrl, sq);
    return NVME_OK;
}

/* Free every queue; nothing runs any more (base 3.7.2). */
static void nvme_free_queues(NvmeCtrl *ctrl)
{
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

static void nvme_ctrl_start(NvmeCtrl *ctrl);

/* The reset's AIO is over: free the queues, then CSTS.RDY goes to 0. */
static void nvme_ctrl_reset_finish(NvmeCtrl *ctrl)
{
    assert(ctrl->resetting && !ctrl->nr_aio && !ctrl->nr_stopped &&
           QTAILQ_EMPTY(&ctrl->bounce_waiters));
    nvme_free_queues(ctrl);
    ctrl->resetting = false;
    ctrl->dbbuf_enabled = false;
    ctrl->dbbuf_dbs = ctrl->dbbuf_eis = 0;
    ctrl->irq_status = 0;
    ctrl->intms = 0;
    nvme_irq_update_pin(ctrl);
    ctrl->csts = 0;
    trace_nvme_ctrl_reset();
    /* the host set CC.EN again before waiting for RDY to clear */
    if (FIELD_EX32(ctrl->cc, NVME_CC, EN)) {
        nvme_ctrl_start(ctrl);
    }
}

/*
 * base 3.7.2: controller reset (CC.EN 1 -> 0, or a PCI reset). Nothing is
 * fetched or posted from now on; AERs and other waiting commands end
 * without completion, commands with AIO end when it does. CSTS.RDY stays 1
 * until then (the host waits for it to clear), so a slow backend delays the
 * reset, not the VM.
 */
static void nvme_ctrl_reset_begin(NvmeCtrl *ctrl)
{
    if (ctrl->resetting) {
        return;
    }
    ctrl->resetting = true;
    for (unsigned qid = 0; qid <= ctrl->params.max_ioqpairs; qid++) {
        if (ctrl->sq[qid]) {
            /* nothing is posted: the status only closes statistics */
            nvme_sq_end_parked(ctrl->sq[qid],
                               nvme_status(NVME_SCT_GENERIC,
                                           NVME_SC_ABORT_REQUESTED, false));
        }
    }
    nvme_admin_reset(ctrl);
    if (!ctrl->nr_aio) {
        nvme_ctrl_reset_finish(ctrl);
    }
}

/*
 * Wait for this controller's AIO (PCI reset and unplug, which cannot
 * return before). A drain lets throttled requests through and runs their
 * callbacks, which start no new AIO once the reset has begun. Never called
 * from our bottom halves or AIO callbacks.
 */
static void nvme_ctrl_wait_aio(NvmeCtrl *ctrl)
{
    for (uint32_t nsid = 1; ctrl->nr_aio && nsid <= NVME_MAX_NAMESPACES;
         nsid++) {
        NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);

        if (ns && ns->nr_aio) {
            blk_drain(nvme_ns_blk(ns));
        }
    }
    AIO_WAIT_WHILE(NULL, ctrl->nr_aio > 0);
}

static void nvme_ctrl_reset_sync(NvmeCtrl *ctrl)
{
    ctrl->cc = FIELD_DP32(ctrl->cc, NVME_CC, EN, 0);
    nvme_ctrl_reset_begin(ctrl);
    nvme_ctrl_wait_aio(ctrl);
    if (ctrl->resetting) {
        nvme_ctrl_reset_finish(ctrl);
    }
}

static void nvme_teardown_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;

    if (ctrl->resetting) {
        if (!ctrl->nr_aio) {
            nvme_ctrl_reset_finish(ctrl);
        }
        return;
    }
    for (unsigned qid = 1; qid <= ctrl->params.max_ioqpairs; qid++) {
        NvmeSQueue *sq = ctrl->sq[qid];

        if (sq && sq->deleting && !sq->nr_aio) {
            nvme_sq_delete_finish(ctrl, sq);
        }
    }
}

/* End the requests of @ctrl that wait on @ns (stopped, or for memory) */
static void nvme_ctrl_end_parked_ns(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    for (unsigned qid = 0; qid <= ctrl->params.max_ioqpairs; qid++) {
        NvmeSQueue *sq = ctrl->sq[qid];
        NvmeRequest *req, *next;

        if (!sq) {
            continue;
        }
        QTAILQ_FOREACH_SAFE(req, &sq->out_reqs, entry, next) {
            if ((req->park == NVME_PARK_STOPPED ||
                 req->park == NVME_PARK_BOUNCE) &&
                (req->ns == ns || req->aio.ns == ns)) {
                nvme_req_end_parked(req, nvme_status(NVME_SCT_GENERIC,
                                                     NVME_SC_INVALID_NSID,
                                                     true));
            }
        }
    }
}

void nvme_ns_quiesce(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    ns->removing = true;
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_ctrl_end_parked_ns(subsys->ctrls[slot], ns);
        }
    }
    if (ns->nr_aio) {
        blk_drain(nvme_ns_blk(ns));
        AIO_WAIT_WHILE(NULL, ns->nr_aio > 0);
    }
}

/* ---- controller enable and shutdown --------------------------------------- */

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
    } else if (!nvme_addr_is_ram(ctrl, ctrl->asq, asqs * NVME_SQE_SIZE,
                                 false) ||
               !nvme_addr_is_ram(ctrl, ctrl->acq, acqs * NVME_CQE_SIZE,
                                 true)) {
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

/* One flush of a shutdown: not a command, but AIO the controller waits for */
typedef struct NvmeShutdownFlush {
    NvmeCtrl        *ctrl;
    NvmeNamespace   *ns;
} NvmeShutdownFlush;

static void nvme_shutdown_flush_done(NvmeCtrl *ctrl)
{
    if (--ctrl->shutdown_flushes == 0 &&
        FIELD_EX32(ctrl->cc, NVME_CC, SHN) != NVME_SHN_NONE) {
        ctrl->shutdown_clean = true;
        ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST,
                                NVME_SHST_COMPLETE);
    }
}

static void nvme_shutdown_flush_cb(void *opaque, int ret)
{
    NvmeShutdownFlush *flush = opaque;
    NvmeCtrl *ctrl = flush->ctrl;

    ctrl->nr_aio--;
    flush->ns->nr_aio--;
    g_free(flush);
    nvme_shutdown_flush_done(ctrl);
    nvme_teardown_kick(ctrl, NULL);
}

/*
 * base 3.6.1: normal or abrupt shutdown: flush what the write caches hold
 * (asynchronously: SHST says "occurring" until the flushes are done).
 */
static void nvme_ctrl_shutdown(NvmeCtrl *ctrl)
{
    if (ctrl->shutdown_flushes) {
        return;                         /* one is under way */
    }
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_OCCURRING);
    ctrl->shutdown_flushes = 1;         /* held until every flush started */
    for (unsigned nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = ctrl->namespaces[nsid];
        NvmeShutdownFlush *flush;

        if (!ns) {
            continue;
        }
        flush = g_new(NvmeShutdownFlush, 1);
        flush->ctrl = ctrl;
        flush->ns = ns;
        ctrl->nr_aio++;
        ns->nr_aio++;
        ctrl->shutdown_flushes++;
        blk_aio_flush(nvme_ns_blk(ns), nvme_shutdown_flush_cb, flush);
    }
    nvme_shutdown_flush_done(ctrl);
}

static void nvme_write_cc(NvmeCtrl *ctrl, uint32_t value)
{
    bool was_enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);
    bool enable = FIELD_EX32(value, NVME_CC, EN);
    uint32_t shn = FIELD_EX32(value, NVME_CC, SHN);

    if (was_enabled && enable) {
        /* only SHN may change while enabled (base 3.1.4.5) */
        value = FIELD_DP32(ctrl->cc, NVME_CC, SHN, shn);
    }
    ctrl->cc = value;
    if (was_enabled && !enable) {
        nvme_ctrl_reset_begin(ctrl);
    }
    if (!was_enabled && enable) {
        if (ctrl->resetting) {
            /* base 3.5.1: the host should have waited for RDY to clear;
             * the reset's end starts the controller */
            nvme_guest_error(ctrl, "CC.EN set while CSTS.RDY is still 1");
        } else {
            nvme_ctrl_start(ctrl);
        }
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

/* rerror/werror=stop: requests wait for the VM to run again */
static void nvme_vm_state_change(void *opaque, bool running, RunState state)
{
    NvmeCtrl *ctrl = opaque;

    if (running && ctrl->nr_stopped) {
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
    QTAILQ_INIT(&ctrl->bounce_waiters);
    ctrl->retry_bh = qemu_bh_new_guarded(nvme_retry_bh, ctrl,
                                         &DEVICE(ctrl)->mem_reentrancy_guard);
    ctrl->teardown_bh = qemu_bh_new_guarded(nvme_teardown_bh, ctrl,
                                            &DEVICE(ctrl)->mem_reentrancy_guard);
    ctrl->bounce_bh = qemu_bh_new_guarded(nvme_bounce_bh, ctrl,
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

    /* its namespaces are gone already (child bus first); wait for the rest */
    nvme_ctrl_reset_sync(ctrl);
    msix_uninit_exclusive_bar(pci);
    nvme_leave_subsys(ctrl);
    qemu_del_vm_change_state_handler(ctrl->vm_state);
    qemu_bh_delete(ctrl->retry_bh);
    qemu_bh_delete(ctrl->teardown_bh);
    qemu_bh_delete(ctrl->bounce_bh);
    g_free(ctrl->sq);
    g_free(ctrl->cq);
    g_free(ctrl->features.irq_coalesce_off);
    qemu_vfree(ctrl->verify_sink);
}

static void nvme_pci_reset(DeviceState *dev)
{
    NvmeCtrl *ctrl = NVME(dev);

    if (!ctrl->shutdown_clean && FIELD_EX32(ctrl->cc, NVME_CC, EN)) {
        ctrl->smart.unsafe_shutdowns++;
    }
    nvme_ctrl_reset_sync(ctrl);
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
