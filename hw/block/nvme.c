/*
 * NVMe controller: its queues and the life of a request, from the doorbell
 * to the completion, and the teardown of both. The PCI function (registers,
 * enable and shutdown, realize) is nvme-pci.c; admin command handlers live
 * in nvme-admin.c and nvme-queue.c, the NVM command set in nvme-io.c,
 * namespaces in nvme-ns.c.
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
 *   lifecycle init     the controller's bottom halves.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
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
#include "nvme-resv.h"
#include "nvme-fault.h"
#include "trace.h"

void nvme_guest_error(NvmeCtrl *ctrl, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_pci_nvme_ub(msg);
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %s\n",
                  DEVICE(ctrl)->id ? DEVICE(ctrl)->id : TYPE_NVME, msg);
}

uint16_t nvme_invalid_field(NvmeRequest *req, uint16_t loc)
{
    req->error_loc = loc;
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, true);
}

/* A condition the host cannot recover from without a reset (base 3.1.4.6). */
void nvme_fatal(NvmeCtrl *ctrl, const char *why)
{
    nvme_guest_error(ctrl, "controller fatal status: %s", why);
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, CFS, 1);
}

/* ---- interrupts --------------------------------------------------------- */

/*
 * iothread=: the interrupts the iothread asked for, sent under the BQL.
 * Each vector once however often it was asked for, as a coalesced MSI-X
 * message is; the pin takes its latest level.
 */
static void nvme_irq_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;
    PCIDevice *pci = nvme_pci(ctrl);
    unsigned words = BITS_TO_LONGS(ctrl->params.msix_qsize);

    for (unsigned w = 0; w < words; w++) {
        unsigned long bits = qatomic_xchg(&ctrl->irq_vectors[w], 0);

        while (bits) {
            unsigned v = w * BITS_PER_LONG + ctz64(bits);

            bits &= bits - 1;
            if (msix_enabled(pci)) {
                msix_notify(pci, v);
            }
        }
    }
    pci_set_irq(pci, qatomic_read(&ctrl->irq_level));
}

void nvme_irq_update_pin(NvmeCtrl *ctrl)
{
    bool level = ctrl->irq_status & ~ctrl->intms;

    /* iothread=: the iothread leaves it to the main loop; others hold BQL */
    qatomic_set(&ctrl->irq_level, level);
    if (nvme_threaded(ctrl) && !bql_locked()) {
        qemu_bh_schedule(ctrl->irq_bh);
        return;
    }
    pci_set_irq(nvme_pci(ctrl), level);
}

static void nvme_irq_raise(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    PCIDevice *pci = nvme_pci(ctrl);

    if (!cq->irq_enabled) {
        return;
    }
    if (msix_enabled(pci)) {
        trace_pci_nvme_irq_msix(cq->vector);
        if (nvme_threaded(ctrl)) {
            set_bit_atomic(cq->vector, ctrl->irq_vectors);
            qemu_bh_schedule(ctrl->irq_bh);
            return;
        }
        msix_notify(pci, cq->vector);
        return;
    }
    /* Pin-based and MSI share one line here; INTMS masks per vector. */
    ctrl->irq_status |= 1u << (cq->vector % 32);
    nvme_irq_update_pin(ctrl);
}

/*
 * base 5.27.1.8 Interrupt Coalescing: an I/O CQ's vector signals once
 * THR + 1 entries wait, or once TIME * 100 us passed since the first of
 * them; never for the admin CQ or a vector with Coalescing Disable (feature
 * 09h). TIME 0 means no delay: no coalescing.
 */
static bool nvme_cq_coalesced(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    return cq->cqid != NVME_ADMIN_QID && cq->irq_enabled &&
           FIELD_EX32(ctrl->features.irq_coalescing, NVME_IRQ_COAL, TIME) &&
           !test_bit(cq->vector, ctrl->features.irq_coalesce_off);
}

/*
 * The time is over: the CQ's bottom half signals (a timer is not guarded
 * against MMIO to our own registers, the bottom half is)
 */
static void nvme_cq_coalesce_expired(void *opaque)
{
    NvmeCQueue *cq = opaque;

    cq->signal_due = true;
    qemu_bh_schedule(cq->bh);
}

/* @posted entries were just posted on @cq: interrupt now or later */
static void nvme_cq_signal(NvmeCtrl *ctrl, NvmeCQueue *cq, unsigned posted)
{
    uint32_t coal = ctrl->features.irq_coalescing;

    if (nvme_cq_coalesced(ctrl, cq)) {
        cq->unsignaled += posted;
        if (cq->unsignaled <= FIELD_EX32(coal, NVME_IRQ_COAL, THR) &&
            !cq->signal_due) {
            if (!timer_pending(cq->coalesce_timer)) {
                uint32_t time_100us = FIELD_EX32(coal, NVME_IRQ_COAL, TIME);

                timer_mod(cq->coalesce_timer,
                          qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                          time_100us * 100 * SCALE_US);
            }
            return;
        }
    }
    timer_del(cq->coalesce_timer);
    cq->unsignaled = 0;
    cq->signal_due = false;
    nvme_irq_raise(ctrl, cq);
}

/* The host consumed a CQ: drop the pin-based request if nothing is pending. */
static void nvme_irq_lower(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    unsigned vector = cq->vector % 32;

    if (msix_enabled(nvme_pci(ctrl)) || !cq->irq_enabled) {
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

/* ---- queues -------------------------------------------------------------- */

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
 * Shadow doorbells and EventIdx entries (base 5.8) live in two pages of
 * guest memory the host may remap at any time: through rings that are
 * mapped again when the memory map changes, or checked at every access.
 */
static bool nvme_shadow_db_read(NvmeCtrl *ctrl, hwaddr off, uint32_t *value)
{
    uint32_t le;

    if (!nvme_ring_read(ctrl, &ctrl->dbbuf_db_ring, off, &le, sizeof(le))) {
        return false;
    }
    *value = le32_to_cpu(le);
    return true;
}

static void nvme_shadow_ei_write(NvmeCtrl *ctrl, hwaddr off, uint32_t value)
{
    uint32_t le = cpu_to_le32(value);

    nvme_ring_write(ctrl, &ctrl->dbbuf_ei_ring, off, &le, sizeof(le));
}

static void nvme_sq_bh(void *opaque);
static void nvme_cq_bh(void *opaque);

/*
 * A CQ's EventIdx (base 5.8) says when the host must ring its head
 * doorbell. We need the head only to post into a full CQ (posting reads
 * the shadow head first) and, pin-based or MSI, to drop the interrupt once
 * all is consumed: then EventIdx is the head we know, and the host rings
 * as it consumes. Otherwise it is the entry behind that head, which the
 * host cannot reach before we post again (a CQ holds size - 1 entries):
 * no head doorbell, one MMIO exit less per interrupt.
 */
static void nvme_cq_publish_event_idx(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    bool need_head = !QTAILQ_EMPTY(&cq->done_reqs) ||
                     (cq->irq_enabled && !msix_enabled(nvme_pci(ctrl)));

    nvme_shadow_ei_write(ctrl, cq->shadow_off,
                         need_head ? cq->head
                                   : (cq->head + cq->size - 1) % cq->size);
}

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
    trace_pci_nvme_ioeventfd(offset);
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

    sq->shadow = true;
    sq->shadow_off = off;
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

    cq->shadow = true;
    cq->shadow_off = off;
    if (!cq->ioeventfd) {
        cq->ioeventfd = nvme_attach_ioeventfd(ctrl, &cq->notifier, off,
                                              nvme_cq_notifier);
    }
    nvme_cq_publish_event_idx(ctrl, cq);
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
    sq->ring = (NvmeRing) { .addr = dma_addr, .len = size * NVME_SQE_SIZE };
    nvme_ring_map(ctrl, &sq->ring);
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
    sq->bh = aio_bh_new_guarded(nvme_ctx(ctrl), nvme_sq_bh, sq,
                                nvme_bh_guard(ctrl));
    QTAILQ_INSERT_TAIL(&cq->sqs, sq, cq_link);
    ctrl->sq[sqid] = sq;
    if (sqid && ctrl->dbbuf_enabled) {
        nvme_sq_init_shadow(ctrl, sq);
    }
    trace_pci_nvme_sq_create(sqid, cqid, size, dma_addr);
}

void nvme_cq_create(NvmeCtrl *ctrl, uint16_t cqid, uint64_t dma_addr,
                    uint32_t size, uint16_t vector, bool irq_enabled)
{
    NvmeCQueue *cq = g_new0(NvmeCQueue, 1);

    cq->ctrl = ctrl;
    cq->cqid = cqid;
    cq->size = size;
    cq->dma_addr = dma_addr;
    cq->ring = (NvmeRing) {
        .addr = dma_addr, .len = size * NVME_CQE_SIZE, .to_guest = true,
    };
    nvme_ring_map(ctrl, &cq->ring);
    cq->vector = vector;
    cq->irq_enabled = irq_enabled;
    cq->phase = true;
    QTAILQ_INIT(&cq->sqs);
    QTAILQ_INIT(&cq->done_reqs);
    cq->coalesce_timer = aio_timer_new(nvme_ctx(ctrl), QEMU_CLOCK_VIRTUAL,
                                       SCALE_NS, nvme_cq_coalesce_expired, cq);
    cq->bh = aio_bh_new_guarded(nvme_ctx(ctrl), nvme_cq_bh, cq,
                                nvme_bh_guard(ctrl));
    ctrl->cq[cqid] = cq;
    if (cqid && ctrl->dbbuf_enabled) {
        nvme_cq_init_shadow(ctrl, cq);
    }
    trace_pci_nvme_cq_create(cqid, size, dma_addr, vector, irq_enabled);
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
    nvme_ring_unmap(&sq->ring);
    ctrl->sq[sq->sqid] = NULL;
    for (uint32_t i = 0; i < sq->size; i++) {
        qemu_iovec_destroy(&sq->reqs[i].iov);
        timer_free(sq->reqs[i].delay_timer);
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
    timer_free(cq->coalesce_timer);
    nvme_ring_unmap(&cq->ring);
    ctrl->cq[cq->cqid] = NULL;
    g_free(cq);
}

/* ---- parse and dispatch -------------------------------------------------- */

/* The shared gates, in order; a handler sees only commands that passed. */
static uint16_t nvme_parse_cmd(NvmeCtrl *ctrl, NvmeRequest *req)
{
    const NvmeCmdDesc *table = req->sq->sqid ? nvme_nvm_cmds : nvme_admin_cmds;
    uint8_t psdt = NVME_SQE_PSDT(req->cmd.flags);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    req->desc = &table[req->cmd.opcode];
    if (!req->desc->exec) {
        req->error_loc = NVME_ERR_LOC(opcode, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, true);
    }
    if (NVME_SQE_FUSE(req->cmd.flags)) {
        /* no fused ops */
        return nvme_invalid_field(req, NVME_ERR_LOC(flags, 0));
    }
    /* Admin commands use PRPs over PCIe (base 4.1.1); SGLs if offered. */
    if (psdt != NVME_PSDT_PRP &&
        (!req->sq->sqid || !ctrl->params.sgl ||
         psdt > NVME_PSDT_SGL_MPTR_SGL)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(flags, 6));
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
            return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
        }
    }
    if (!req->ns) {
        return NVME_OK;
    }
    if ((req->desc->flags & NVME_CMDF_ANA) && ctrl->subsys->ana_groups) {
        uint16_t status = nvme_ana_check_io(ctrl, req->ns);

        if (status) {
            return status;
        }
    }
    if (unlikely(req->ns->resv.rtype) &&
        (req->desc->flags & (NVME_CMDF_RESV_READ | NVME_CMDF_RESV_WRITE))) {
        return nvme_resv_check_io(ctrl, req);
    }
    return NVME_OK;
}

/*
 * The gates, then the command's handler; complete it unless it goes on. A
 * @fresh command may meet an injected fault (a delayed one did already).
 * Inline: it is the body of the SQ loop.
 */
static inline QEMU_ALWAYS_INLINE
void nvme_req_exec(NvmeCtrl *ctrl, NvmeRequest *req, bool fresh)
{
    uint16_t status = nvme_parse_cmd(ctrl, req);

    if (fresh && unlikely(ctrl->subsys->nr_faults) && status == NVME_OK) {
        status = nvme_fault_cmd(ctrl, req);
    }
    if (status == NVME_OK) {
        status = req->desc->exec(ctrl, req);
    }
    if (status != NVME_NO_COMPLETE) {
        nvme_req_complete(req, status);
    }
}

void nvme_req_run_delayed(NvmeCtrl *ctrl, NvmeRequest *req)
{
    nvme_req_exec(ctrl, req, false);
}

/* ---- the request lifecycle ----------------------------------------------- */

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
    req->error_loc = NVME_ERR_LOC_NONE;
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
        trace_pci_nvme_err_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                           req->desc && req->desc->name ? req->desc->name : "?",
                           status);
        nvme_error_log_add(ctrl, req);
    } else {
        trace_pci_nvme_cmd_done(sq->sqid, nvme_cid(req), req->dw0);
    }
    req->state = NVME_REQ_DONE;
    QTAILQ_INSERT_TAIL(&cq->done_reqs, req, entry);
    qemu_bh_schedule(cq->bh);
}

/*
 * The status a request must end with because of a teardown, or NVME_OK.
 * Inline: every AIO asks (nvme_aio_submit).
 */
static inline QEMU_ALWAYS_INLINE
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
    case NVME_PARK_DELAY:
        timer_del(req->delay_timer);
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

/* ---- AIO: every block layer request of a command ------------------------- */

void nvme_teardown_kick(NvmeCtrl *ctrl, NvmeSQueue *sq)
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
static bool nvme_aio_error_stops(NvmeRequest *req, int *ret)
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
    trace_pci_nvme_io_error(nvme_cid(req), req->cmd.opcode, *ret, action);
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
    NvmeNamespace *ns = req->aio.ns;

    assert(req->state == NVME_REQ_ACTIVE && req->aiocb);
    req->aiocb = NULL;
    sq->nr_aio--;
    ctrl->nr_aio--;
    ns->nr_aio--;
    if (ret >= 0 || !nvme_aio_error_stops(req, &ret)) {
        /* the command goes on, or completes; req may be DONE after this */
        req->aio.done(req, ret);
    }
    nvme_teardown_kick(ctrl, sq);
    if (unlikely(ns->gone_bh) && !ns->nr_aio) {
        /* a deleted namespace's last AIO: it can go (nvme_ns_retire) */
        qemu_bh_schedule(ns->gone_bh);
    }
}

uint16_t nvme_aio_submit(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;
    NvmeAio *aio = &req->aio;
    BlockBackend *blk = nvme_ns_blk(aio->ns);
    uint16_t status;
    int64_t offset;

    assert(req->state == NVME_REQ_ACTIVE && !req->aiocb &&
           req->park == NVME_PARK_NONE);
    status = nvme_req_teardown_status(req, aio->ns);
    if (unlikely(status)) {
        return status;
    }
    if (aio->kind == NVME_AIO_WRITE || aio->kind == NVME_AIO_ZEROES) {
        /* written, zeroed or deallocated: readable again (NVM 3.3.8) */
        nvme_ns_uncorr_clear(aio->ns, aio->offset >> aio->ns->lbads,
                             aio->bytes >> aio->ns->lbads);
    }
    sq->nr_aio++;
    sq->ctrl->nr_aio++;
    aio->ns->nr_aio++;
    /* a pool namespace is a range of the pool's drive */
    offset = aio->offset + aio->ns->pool_offset;
    switch (aio->kind) {
    case NVME_AIO_READ:
        req->aiocb = blk_aio_preadv(blk, offset, aio->qiov, 0,
                                    nvme_aio_cb, req);
        break;
    case NVME_AIO_WRITE:
        req->aiocb = blk_aio_pwritev(blk, offset, aio->qiov, aio->flags,
                                     nvme_aio_cb, req);
        break;
    case NVME_AIO_ZEROES:
        req->aiocb = blk_aio_pwrite_zeroes(blk, offset, aio->bytes,
                                           aio->flags, nvme_aio_cb, req);
        break;
    case NVME_AIO_FLUSH:
        req->aiocb = blk_aio_flush(blk, nvme_aio_cb, req);
        break;
    }
    return NVME_NO_COMPLETE;
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
void nvme_ctrl_foreach_parked(NvmeCtrl *ctrl, unsigned kinds,
                              void (*fn)(NvmeRequest *req, void *opaque),
                              void *opaque)
{
    for (unsigned qid = 0; qid <= ctrl->params.max_ioqpairs; qid++) {
        NvmeSQueue *sq = ctrl->sq[qid];
        NvmeRequest *req, *next;

        if (!sq) {
            continue;
        }
        QTAILQ_FOREACH_SAFE(req, &sq->out_reqs, entry, next) {
            if (kinds & BIT(req->park)) {
                fn(req, opaque);
            }
        }
    }
}

static void nvme_retry_one(NvmeRequest *req, void *opaque)
{
    uint16_t status;

    nvme_req_unpark(req);
    status = nvme_aio_submit(req);
    if (status != NVME_NO_COMPLETE) {
        nvme_req_complete(req, status);
    }
}

static void nvme_retry_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;

    if (ctrl->nr_stopped) {
        nvme_ctrl_foreach_parked(ctrl, BIT(NVME_PARK_STOPPED), nvme_retry_one,
                                 NULL);
    }
}

/* ---- bounce memory ------------------------------------------------------- */

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

    if (sq->shadow && nvme_shadow_db_read(ctrl, sq->shadow_off, &tail) &&
        tail < sq->size) {
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

    if (!sq->shadow) {
        return;
    }
    nvme_shadow_ei_write(ctrl, sq->shadow_off, seen);
    smp_mb();   /* EventIdx visible before the shadow tail is read again */
    nvme_sq_refresh_tail(ctrl, sq);
    if (sq->tail != seen) {
        qemu_bh_schedule(sq->bh);
    }
}

/* base 3.7.2, 5.7; a stall is an injected fault (nvme-fault.c) */
bool nvme_sq_fetching(NvmeCtrl *ctrl, NvmeSQueue *sq)
{
    return nvme_ctrl_ready(ctrl) && !sq->deleting && !ctrl->fault_stall;
}

void nvme_ctrl_kick(NvmeCtrl *ctrl)
{
    for (unsigned qid = 0; ctrl->sq && qid <= ctrl->params.max_ioqpairs;
         qid++) {
        if (ctrl->sq[qid]) {
            qemu_bh_schedule(ctrl->sq[qid]->bh);
        }
    }
    qemu_bh_schedule(ctrl->fault_bh);   /* delayed commands that are due */
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

        if (!nvme_ring_read(ctrl, &sq->ring, (hwaddr)sq->head * NVME_SQE_SIZE,
                            &req->cmd, sizeof(req->cmd))) {
            nvme_fatal(ctrl, "submission queue entry not readable");
            return;
        }
        sq->head = (sq->head + 1) % sq->size;
        nvme_req_start(req);
        trace_pci_nvme_cmd(sq->sqid, nvme_cid(req), req->cmd.opcode,
                       le32_to_cpu(req->cmd.nsid));

        nvme_req_exec(ctrl, req, true);
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
    trace_pci_nvme_db_cq(cq->cqid, head);
    cq->head = head;
    if (cq->shadow) {
        nvme_cq_publish_event_idx(ctrl, cq);
    }
    if (cq->head == cq->tail) {
        nvme_irq_lower(ctrl, cq);
    }
    return true;
}

static void nvme_cq_refresh_head(NvmeCtrl *ctrl, NvmeCQueue *cq)
{
    uint32_t head;

    if (cq->shadow && nvme_shadow_db_read(ctrl, cq->shadow_off, &head) &&
        head != cq->head) {
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
    uint32_t first = cq->tail;          /* the entries written, for dirty */
    unsigned posted = 0;
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
        assert(req->state == NVME_REQ_DONE);
        if (!nvme_ring_put(ctrl, &cq->ring, (hwaddr)cq->tail * NVME_CQE_SIZE,
                           &cqe, sizeof(cqe))) {
            nvme_fatal(ctrl, "completion queue entry not writable");
            break;
        }
        cq->tail = (cq->tail + 1) % cq->size;
        if (cq->tail == 0) {
            cq->phase = !cq->phase;
            nvme_ring_dirty(&cq->ring, first * NVME_CQE_SIZE,
                            (cq->size - first) * NVME_CQE_SIZE);
            first = 0;
        }
        QTAILQ_REMOVE(&cq->done_reqs, req, entry);
        nvme_req_free(req);
        posted++;
    }
    nvme_ring_dirty(&cq->ring, first * NVME_CQE_SIZE,
                    (cq->tail - first) * NVME_CQE_SIZE);
    if (cq->shadow && (posted || !QTAILQ_EMPTY(&cq->done_reqs))) {
        uint32_t head = cq->head;

        nvme_cq_publish_event_idx(ctrl, cq);
        if (!QTAILQ_EMPTY(&cq->done_reqs)) {
            /*
             * Full, so the host is asked to ring as it consumes: look once
             * more in case it moved the shadow head before it saw that.
             */
            smp_mb();   /* EventIdx visible before the head is read again */
            nvme_cq_refresh_head(ctrl, cq);
            if (cq->head != head) {
                qemu_bh_schedule(cq->bh);
            }
        }
    }
    if (posted) {
        /*
         * requests came free: SQs that ran out of them may go on (a
         * shadow tail may be ahead of what we know)
         */
        QTAILQ_FOREACH(sq, &cq->sqs, cq_link) {
            if (!sq->deleting && (sq->head != sq->tail || sq->shadow)) {
                qemu_bh_schedule(sq->bh);
            }
        }
    }
    if (posted || cq->signal_due) {
        nvme_cq_signal(ctrl, cq, posted);
    }
}

static void nvme_cq_bh(void *opaque)
{
    NvmeCQueue *cq = opaque;

    nvme_cq_post(cq->ctrl, cq);
}

/* ---- doorbells ----------------------------------------------------------- */

void nvme_doorbell_write(NvmeCtrl *ctrl, hwaddr offset, uint32_t value)
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
    trace_pci_nvme_db_sq(qid, value);
    ctrl->sq[qid]->tail = value;
    qemu_bh_schedule(ctrl->sq[qid]->bh);
}

/*
 * iothread=: a vCPU's doorbell write is left here for the iothread (its
 * bottom half, or the next register access, which comes first), so that
 * the vCPU goes on at once. One slot per doorbell: a doorbell written twice
 * before the iothread looks counts once, with the later value, as if the
 * controller had read the register late.
 */
#define NVME_DB_MAIL_FULL       (1ull << 32)

static unsigned nvme_db_count(NvmeCtrl *ctrl)
{
    return 2 * (ctrl->params.max_ioqpairs + 1);     /* CAP.DSTRD 0 */
}

bool nvme_doorbell_post(NvmeCtrl *ctrl, hwaddr offset, uint32_t value)
{
    hwaddr index = offset >> 2;

    /*
     * Pin-based, a CQ head must lower the pin before the host's handler
     * returns (or the level fires again): that takes the paused path
     */
    if (!ctrl->db_mail || (offset & 3) || index >= nvme_db_count(ctrl) ||
        ((index & 1) && !msix_enabled(nvme_pci(ctrl)))) {
        return false;
    }
    /* the value before its bit: whoever clears the bit finds the value */
    qatomic_set(&ctrl->db_mail[index], value | NVME_DB_MAIL_FULL);
    set_bit_atomic(index, ctrl->db_pending);
    qemu_bh_schedule(ctrl->db_bh);
    return true;
}

static NvmeSQueue *nvme_doorbell_sq(NvmeCtrl *ctrl, unsigned qid)
{
    return nvme_sqid_valid(ctrl, qid) ? ctrl->sq[qid] : NULL;
}

void nvme_doorbell_deliver(NvmeCtrl *ctrl)
{
    unsigned words = ctrl->db_mail ? BITS_TO_LONGS(nvme_db_count(ctrl)) : 0;
    unsigned long rung[BITS_TO_LONGS(2 * (NVME_MAX_IOQPAIRS + 1))] = { 0 };

    /*
     * Every value first, then the fetches: a command fetched now (a Delete
     * I/O SQ) must not find a queue whose doorbell the host wrote before
     * still waiting here
     */
    for (unsigned w = 0; w < words; w++) {
        unsigned long bits = qatomic_xchg(&ctrl->db_pending[w], 0);

        while (bits) {
            unsigned index = w * BITS_PER_LONG + ctz64(bits);
            uint64_t mail = qatomic_xchg(&ctrl->db_mail[index], 0);

            bits &= bits - 1;
            if (mail & NVME_DB_MAIL_FULL) {
                nvme_doorbell_write(ctrl, (hwaddr)index << 2, (uint32_t)mail);
                if (!(index & 1)) {
                    set_bit(index, rung);
                }
            }
        }
    }
    /*
     * fetch now, not in a bottom half that might run after what the host
     * did next (a register write: a reset); only in the iothread, where
     * the AIO it starts belongs
     */
    for (unsigned w = 0; w < words && nvme_in_owner(ctrl); w++) {
        unsigned long bits = rung[w];

        while (bits) {
            unsigned index = w * BITS_PER_LONG + ctz64(bits);
            NvmeSQueue *sq = nvme_doorbell_sq(ctrl, index >> 1);

            bits &= bits - 1;
            if (sq) {
                qemu_bh_cancel(sq->bh);
                nvme_sq_bh(sq);
            }
        }
    }
}

/* A reset forgets the doorbells not delivered: they were for the old queues */
static void nvme_doorbell_discard(NvmeCtrl *ctrl)
{
    if (ctrl->db_mail) {
        bitmap_zero(ctrl->db_pending, nvme_db_count(ctrl));
        memset(ctrl->db_mail, 0, nvme_db_count(ctrl) * sizeof(uint64_t));
    }
}

static void nvme_db_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;

    if (!ctrl->removed) {
        nvme_doorbell_deliver(ctrl);
    }
}

/* ---- teardown: Delete I/O SQ, controller reset, namespace removal -------- */

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
    trace_pci_nvme_sq_delete(sq->sqid);
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

/* The reset's AIO is over: free the queues, then CSTS.RDY goes to 0. */
static void nvme_ctrl_reset_finish(NvmeCtrl *ctrl)
{
    assert(ctrl->resetting && !ctrl->nr_aio && !ctrl->nr_stopped &&
           QTAILQ_EMPTY(&ctrl->bounce_waiters));
    nvme_doorbell_discard(ctrl);
    /* the pin goes low first: freeing one CQ must not raise it for another */
    ctrl->irq_status = 0;
    ctrl->intms = 0;
    nvme_irq_update_pin(ctrl);
    nvme_free_queues(ctrl);
    ctrl->resetting = false;
    ctrl->dbbuf_enabled = false;
    ctrl->dbbuf_dbs = ctrl->dbbuf_eis = 0;
    nvme_ring_unmap(&ctrl->dbbuf_db_ring);
    nvme_ring_unmap(&ctrl->dbbuf_ei_ring);
    ctrl->csts &= R_NVME_CSTS_NSSRO_MASK;       /* the host clears it */
    trace_pci_nvme_ctrl_reset();
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
static bool nvme_ctrl_reset_start(NvmeCtrl *ctrl)
{
    if (ctrl->resetting) {
        return false;
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
    nvme_fault_ctrl_reset(ctrl);
    if (ctrl->shutdown_bh) {
        qemu_bh_cancel(ctrl->shutdown_bh);  /* a deferred CC.SHN's flushes */
    }
    return true;
}

void nvme_ctrl_reset_begin(NvmeCtrl *ctrl)
{
    if (nvme_ctrl_reset_start(ctrl) && !ctrl->nr_aio) {
        nvme_ctrl_reset_finish(ctrl);
    }
}

/*
 * A reset that another device starts (an NVM Subsystem Reset through a
 * sibling's NSSR) may run inside this controller's own queue code: an
 * MSI-X message its CQ sends can be aimed at the sibling's NSSR, and the
 * memory guard only refuses accesses to this device. So the queues are
 * never freed here but from this controller's guarded teardown BH.
 */
void nvme_ctrl_reset_begin_deferred(NvmeCtrl *ctrl)
{
    if (nvme_ctrl_reset_start(ctrl)) {
        qemu_bh_schedule(ctrl->teardown_bh);
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
    /*
     * iothread=: the counts move in the iothread meanwhile (down only: no
     * AIO starts once the reset has begun); the namespace table does not
     * (only the main loop changes it).
     */
    for (uint32_t nsid = 1;
         qatomic_read(&ctrl->nr_aio) && nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);

        if (ns && qatomic_read(&ns->nr_aio)) {
            blk_drain(nvme_ns_blk(ns));
        }
    }
    AIO_WAIT_WHILE_UNLOCKED(NULL, qatomic_read(&ctrl->nr_aio) > 0);
}

void nvme_ctrl_reset_sync(NvmeCtrl *ctrl)
{
    nvme_subsys_pause(ctrl->subsys);
    ctrl->cc = FIELD_DP32(ctrl->cc, NVME_CC, EN, 0);
    nvme_ctrl_reset_begin(ctrl);
    nvme_subsys_resume(ctrl->subsys);
    nvme_ctrl_wait_aio(ctrl);
    nvme_subsys_pause(ctrl->subsys);
    if (ctrl->resetting) {
        nvme_ctrl_reset_finish(ctrl);
    }
    nvme_subsys_resume(ctrl->subsys);
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

static void nvme_end_parked_on_ns(NvmeRequest *req, void *ns)
{
    if (req->ns == ns || req->aio.ns == ns) {
        nvme_req_end_parked(req, nvme_status(NVME_SCT_GENERIC,
                                             NVME_SC_INVALID_NSID, true));
    }
}

/* End the requests of @ctrl that wait on @ns (stopped, for memory, delayed) */
static void nvme_ctrl_end_parked_ns(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    nvme_ctrl_foreach_parked(ctrl, BIT(NVME_PARK_STOPPED) |
                             BIT(NVME_PARK_BOUNCE) | BIT(NVME_PARK_DELAY),
                             nvme_end_parked_on_ns, ns);
}

/* No new AIO on @ns, and no request of any controller waits on it */
static void nvme_ns_stop(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    ns->removing = true;
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_ctrl_end_parked_ns(subsys->ctrls[slot], ns);
        }
    }
}

void nvme_ns_quiesce(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    nvme_subsys_pause(subsys);
    nvme_ns_stop(subsys, ns);
    nvme_subsys_resume(subsys);
    if (qatomic_read(&ns->nr_aio)) {
        blk_drain(nvme_ns_blk(ns));
        AIO_WAIT_WHILE_UNLOCKED(NULL, qatomic_read(&ns->nr_aio) > 0);
    }
}

void nvme_ns_retire(NvmeSubsystem *subsys, NvmeNamespace *ns, QEMUBH *gone)
{
    ns->gone_bh = gone;
    nvme_ns_stop(subsys, ns);
    if (!ns->nr_aio) {
        qemu_bh_schedule(gone);
    }
}

/* ---- the controller's share of the lifecycle ----------------------------- */

/* The guest's memory map changed: map every ring again */
static void nvme_memory_commit_owned(NvmeCtrl *ctrl)
{
    for (unsigned qid = 0; ctrl->sq && qid <= ctrl->params.max_ioqpairs;
         qid++) {
        if (ctrl->sq[qid]) {
            nvme_ring_map(ctrl, &ctrl->sq[qid]->ring);
        }
        if (ctrl->cq[qid]) {
            nvme_ring_map(ctrl, &ctrl->cq[qid]->ring);
        }
    }
    if (ctrl->dbbuf_enabled) {
        nvme_ring_map(ctrl, &ctrl->dbbuf_db_ring);
        nvme_ring_map(ctrl, &ctrl->dbbuf_ei_ring);
    }
    nvme_window_drop(ctrl);
}

static void nvme_memory_commit(MemoryListener *listener)
{
    NvmeCtrl *ctrl = container_of(listener, NvmeCtrl, mem_listener);

    nvme_subsys_pause(ctrl->subsys);
    nvme_memory_commit_owned(ctrl);
    nvme_subsys_resume(ctrl->subsys);
}

void nvme_lifecycle_init(NvmeCtrl *ctrl)
{
    MemReentrancyGuard *guard = nvme_bh_guard(ctrl);
    AioContext *ctx = nvme_ctx(ctrl);

    /* the interrupts' bottom half runs in the main loop, guarded always */
    ctrl->irq_bh = qemu_bh_new_guarded(nvme_irq_bh, ctrl,
                                       &DEVICE(ctrl)->mem_reentrancy_guard);
    ctrl->irq_vectors = bitmap_new(ctrl->params.msix_qsize);
    if (nvme_threaded(ctrl)) {
        ctrl->db_bh = aio_bh_new(ctx, nvme_db_bh, ctrl);
        ctrl->db_mail = g_new0(uint64_t, nvme_db_count(ctrl));
        ctrl->db_pending = bitmap_new(nvme_db_count(ctrl));
        nvme_subsys_pause(ctrl->subsys);
        nvme_subsys_park_add(ctrl->subsys, ctrl);
        nvme_subsys_resume(ctrl->subsys);
    }

    ctrl->mem_listener = (MemoryListener) {
        .name = "nvme",
        .commit = nvme_memory_commit,
    };
    memory_listener_register(&ctrl->mem_listener,
                             pci_get_address_space(nvme_pci(ctrl)));

    QTAILQ_INIT(&ctrl->bounce_waiters);
    ctrl->retry_bh = aio_bh_new_guarded(ctx, nvme_retry_bh, ctrl, guard);
    ctrl->teardown_bh = aio_bh_new_guarded(ctx, nvme_teardown_bh, ctrl,
                                           guard);
    ctrl->bounce_bh = aio_bh_new_guarded(ctx, nvme_bounce_bh, ctrl, guard);
    ctrl->fault_bh = aio_bh_new_guarded(ctx, nvme_fault_delay_bh, ctrl,
                                        guard);
}

/* After nvme_ctrl_reset_sync(): nothing runs any more */
void nvme_lifecycle_exit(NvmeCtrl *ctrl)
{
    memory_listener_unregister(&ctrl->mem_listener);
    nvme_window_drop(ctrl);
    qemu_bh_delete(ctrl->retry_bh);
    qemu_bh_delete(ctrl->teardown_bh);
    qemu_bh_delete(ctrl->fault_bh);
    qemu_bh_delete(ctrl->bounce_bh);
    qemu_bh_delete(ctrl->irq_bh);
    g_clear_pointer(&ctrl->irq_vectors, g_free);
    if (ctrl->db_bh) {
        nvme_subsys_park_remove(ctrl);
    }
    g_clear_pointer(&ctrl->db_bh, qemu_bh_delete);
    g_clear_pointer(&ctrl->db_mail, g_free);
    g_clear_pointer(&ctrl->db_pending, g_free);
    qemu_vfree(ctrl->verify_sink);
    ctrl->verify_sink = NULL;
}

/* ---- namespaces ---------------------------------------------------------- */

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
