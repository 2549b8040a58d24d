/*
 * NVMe admin command set (NVMe Base 2.0, section 5): Identify, Get Log Page,
 * Set/Get Features, Asynchronous Event Request, Abort, Format NVM and Keep
 * Alive, with the state behind them: the Identify Controller data, the
 * feature values, the Error Information log and the queue of asynchronous
 * events. Queue creation/deletion and Doorbell Buffer Config are in
 * nvme-queue.c, the queues they manage in nvme.c; this file's table names
 * every admin command.
 *
 * Map of this file: helpers, events (AER, notices, SMART), error log, Abort,
 * Identify, Get Log Page, features, Format NVM, the command table, and the
 * controller's initial and reset state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "nvme-resv.h"
#include "nvme-pool.h"
#include "nvme-fault.h"
#include "trace.h"


/*
 * A log read past its end returns zeroes, up to this much (base 5.16:
 * what lies beyond a log page is undefined; we stop filling here).
 */
#define NVME_LOG_XFER_MAX       (1 * MiB)
#define NVME_FORMAT_CHUNK       (1 * GiB)      /* one Write Zeroes of erase */
#define NVME_PSD0_MP_CW         2500           /* power state 0: 25 W */
#define NVME_CCTEMP_K           373            /* critical composite temp. */
#define NVME_SPARE_PERCENT      100
#define NVME_SPARE_THRESHOLD    10


/* ---- helpers ------------------------------------------------------------- */



static bool nvme_req_is_aer(NvmeRequest *req)
{
    return req->sq->sqid == NVME_ADMIN_QID &&
           req->cmd.opcode == NVME_ADM_ASYNC_EVENT;
}

/* masked_lids holds one bit per log page id: ours are below 31, and 80h */
static uint32_t nvme_lid_bit(uint8_t lid)
{
    if (lid == NVME_LOG_RESV_NOTICE) {
        return BIT(31);
    }
    return lid < 31 ? BIT(lid) : 0;
}

/* ---- asynchronous events (base 5.2) -------------------------------------- */

/* base 5.27.1.11: the Asynchronous Event Configuration bit behind an event */
static bool nvme_event_enabled(NvmeCtrl *ctrl, uint8_t type, uint8_t info)
{
    static const uint32_t smart_bits[] = {
        [NVME_AER_INFO_SMART_RELIABILITY]       = NVME_SMART_WARN_RELIABILITY,
        [NVME_AER_INFO_SMART_TEMP_THRESHOLD]    = NVME_SMART_WARN_TEMPERATURE,
        [NVME_AER_INFO_SMART_SPARE]             = NVME_SMART_WARN_SPARE,
    };
    static const uint32_t notice_bits[] = {
        [NVME_AER_INFO_NOTICE_NS_ATTR]          = NVME_AEC_NS_ATTR,
        [NVME_AER_INFO_NOTICE_FW_ACTIVATION]    = NVME_AEC_FW_ACTIVATION,
        [NVME_AER_INFO_NOTICE_ANA_CHANGE]       = NVME_AEC_ANA_CHANGE,
    };
    uint32_t aec = ctrl->features.async_config;

    switch (type) {
    case NVME_AER_TYPE_SMART:
        return info < ARRAY_SIZE(smart_bits) && (aec & smart_bits[info]);
    case NVME_AER_TYPE_NOTICE:
        return info < ARRAY_SIZE(notice_bits) && (aec & notice_bits[info]);
    default:
        return true;            /* error events cannot be disabled */
    }
}

/*
 * The first queued event whose kind is not masked, taken off the queue.
 * Reporting it masks its log page until the host reads that page with
 * RAE cleared (base 5.2).
 */
static NvmeAsyncEvent *nvme_event_take(NvmeCtrl *ctrl)
{
    NvmeAsyncEvent *event;

    QSIMPLEQ_FOREACH(event, &ctrl->events, entry) {
        if (!(ctrl->masked_lids & nvme_lid_bit(event->lid))) {
            QSIMPLEQ_REMOVE(&ctrl->events, event, NvmeAsyncEvent, entry);
            ctrl->nr_events--;
            ctrl->masked_lids |= nvme_lid_bit(event->lid);
            return event;
        }
    }
    return NULL;
}

/* Put @event in the result of @req (an AER), and free the event */
static void nvme_aer_fill(NvmeRequest *req, NvmeAsyncEvent *event)
{
    uint32_t dw0 = 0;

    dw0 = FIELD_DP32(dw0, NVME_AER_DW0, TYPE, event->type);
    dw0 = FIELD_DP32(dw0, NVME_AER_DW0, INFO, event->info);
    dw0 = FIELD_DP32(dw0, NVME_AER_DW0, LID, event->lid);
    req->dw0 = dw0;
    trace_pci_nvme_adm_aer_report(nvme_cid(req), event->type, event->info,
                              event->lid);
    g_free(event);
}

/* Take @req off the outstanding AERs, keeping the others in order */
void nvme_aer_unlist(NvmeCtrl *ctrl, NvmeRequest *req)
{
    for (unsigned i = 0; i < ctrl->aer_outstanding; i++) {
        if (ctrl->aer_reqs[i] == req) {
            ctrl->aer_outstanding--;
            memmove(&ctrl->aer_reqs[i], &ctrl->aer_reqs[i + 1],
                    (ctrl->aer_outstanding - i) * sizeof(ctrl->aer_reqs[0]));
            ctrl->aer_reqs[ctrl->aer_outstanding] = NULL;
            return;
        }
    }
}

/* Report what can be reported: oldest AER first, oldest event first */
static void nvme_aer_report(NvmeCtrl *ctrl)
{
    while (ctrl->aer_outstanding) {
        NvmeAsyncEvent *event = nvme_event_take(ctrl);
        NvmeRequest *req = ctrl->aer_reqs[0];

        if (!event) {
            return;
        }
        nvme_req_unpark(req);
        nvme_aer_fill(req, event);
        nvme_req_complete(req, NVME_OK);
    }
}

void nvme_enqueue_event(NvmeCtrl *ctrl, uint8_t type, uint8_t info, uint8_t lid)
{
    NvmeAsyncEvent *event;

    /*
     * A disabled controller has no AER to report to; after it is enabled
     * the host identifies everything afresh (base 3.5.1).
     */
    if (!FIELD_EX32(ctrl->cc, NVME_CC, EN)) {
        trace_pci_nvme_adm_event_drop(type, info, lid, "controller disabled");
        return;
    }
    if (!nvme_event_enabled(ctrl, type, info)) {
        trace_pci_nvme_adm_event_drop(type, info, lid, "disabled by the host");
        return;
    }
    QSIMPLEQ_FOREACH(event, &ctrl->events, entry) {
        if (event->type == type && event->info == info && event->lid == lid) {
            trace_pci_nvme_adm_event_drop(type, info, lid, "already queued");
            return;
        }
    }
    if (ctrl->nr_events >= NVME_MAX_EVENTS) {
        trace_pci_nvme_adm_event_drop(type, info, lid, "queue full");
        return;
    }
    event = g_new0(NvmeAsyncEvent, 1);
    event->type = type;
    event->info = info;
    event->lid = lid;
    QSIMPLEQ_INSERT_TAIL(&ctrl->events, event, entry);
    ctrl->nr_events++;
    trace_pci_nvme_adm_event_queue(type, info, lid, ctrl->nr_events);
    nvme_aer_report(ctrl);
}

/* base 5.2 Asynchronous Event Request: it completes when there is news */
static uint16_t nvme_admin_aer(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeAsyncEvent *event;

    if (ctrl->aer_outstanding > NVME_AERL) {
        trace_pci_nvme_err_adm_aer_limit(nvme_cid(req));
        req->error_loc = NVME_ERR_LOC_NONE;
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_AER_LIMIT, false);
    }
    event = nvme_event_take(ctrl);
    if (event) {
        nvme_aer_fill(req, event);
        return NVME_OK;
    }
    nvme_req_park(req, NVME_PARK_AER);
    ctrl->aer_reqs[ctrl->aer_outstanding++] = req;
    trace_pci_nvme_adm_aer(nvme_cid(req), ctrl->aer_outstanding);
    return NVME_NO_COMPLETE;
}

/*
 * base 5.27.1.4: at or over the over-threshold, or at or under a set
 * under-threshold (0 K, the default, means none)
 */
static bool nvme_temp_warning(NvmeCtrl *ctrl)
{
    uint16_t temp = ctrl->params.temperature;
    const NvmeFeatures *feat = &ctrl->features;

    return temp >= feat->temp_over ||
           (feat->temp_under && temp <= feat->temp_under);
}

void nvme_smart_check_temperature(NvmeCtrl *ctrl)
{
    /* Reported and its log not read yet: the host already knows */
    if (!nvme_temp_warning(ctrl) ||
        (ctrl->masked_lids & nvme_lid_bit(NVME_LOG_SMART))) {
        return;
    }
    nvme_enqueue_event(ctrl, NVME_AER_TYPE_SMART,
                       NVME_AER_INFO_SMART_TEMP_THRESHOLD, NVME_LOG_SMART);
}

/* base 5.16.1.5: the Changed Namespace List is kept in ascending order */
static void nvme_changed_ns_add(NvmeCtrl *ctrl, uint32_t nsid)
{
    unsigned nr = ctrl->nr_changed_nsids;
    unsigned i = 0;

    if (nr > NVME_NSID_LIST_MAX) {
        return;                         /* overflowed until the log is read */
    }
    while (i < nr && ctrl->changed_nsids[i] < nsid) {
        i++;
    }
    if (i < nr && ctrl->changed_nsids[i] == nsid) {
        return;
    }
    if (nr == NVME_NSID_LIST_MAX) {
        ctrl->nr_changed_nsids = NVME_NSID_LIST_MAX + 1;
        return;
    }
    memmove(&ctrl->changed_nsids[i + 1], &ctrl->changed_nsids[i],
            (nr - i) * sizeof(ctrl->changed_nsids[0]));
    ctrl->changed_nsids[i] = nsid;
    ctrl->nr_changed_nsids = nr + 1;
}

void nvme_ns_changed(NvmeCtrl *ctrl, uint32_t nsid)
{
    nvme_changed_ns_add(ctrl, nsid);
    trace_pci_nvme_adm_ns_changed(nsid, ctrl->nr_changed_nsids);
    nvme_enqueue_event(ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_INFO_NOTICE_NS_ATTR,
                       NVME_LOG_CHANGED_NS);
}

/* ---- Error Information log (base 5.16.1.2) ------------------------------- */

void nvme_error_log_add(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeErrorLogEntry *entry = &ctrl->error_log[ctrl->error_log_next];
    uint8_t sc = NVME_STATUS_SC(req->status);

    if (req->status == NVME_OK) {
        return;
    }
    /* An AER ended by Abort or by its queue going away is no host error */
    if (nvme_req_is_aer(req) &&
        NVME_STATUS_SCT(req->status) == NVME_SCT_GENERIC &&
        (sc == NVME_SC_ABORT_REQUESTED || sc == NVME_SC_ABORTED_SQ_DELETION)) {
        return;
    }
    /* the count is the entry's unique id; 0 would mark it invalid */
    if (++ctrl->error_count == 0) {
        ctrl->error_count = 1;
    }
    memset(entry, 0, sizeof(*entry));
    entry->error_count = cpu_to_le64(ctrl->error_count);
    entry->sqid = cpu_to_le16(req->sq->sqid);
    entry->cid = req->cmd.cid;
    entry->status = cpu_to_le16(req->status << 1);  /* as in the CQE, phase 0 */
    entry->param_loc = cpu_to_le16(req->error_loc);
    entry->lba = cpu_to_le64(req->error_lba);
    entry->nsid = req->cmd.nsid;
    entry->log_page_version = 1;
    ctrl->error_log_next = (ctrl->error_log_next + 1) % NVME_ERROR_LOG_ENTRIES;
    trace_pci_nvme_adm_error_log(ctrl->error_count, req->sq->sqid,
                                 nvme_cid(req), req->status);
}

/* ---- Abort (base 5.1) ---------------------------------------------------- */

/*
 * A command that waits (an AER, one stopped by werror=stop, one waiting for
 * memory) ends at once with Command Abort Requested. One with AIO in
 * flight is marked: it starts no further step and completes, when its AIO
 * is over, with Command Abort Requested, whatever the AIO did. Anything
 * else is not aborted (dw0 bit 0 set): not found, already completed, or a
 * Delete I/O SQ, which always runs to its end. The Abort itself never
 * waits, so the Abort Command Limit (ACL) cannot be exceeded.
 */
uint16_t nvme_admin_abort(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint16_t sqid = FIELD_EX32(dw10, NVME_ABORT_DW10, SQID);
    uint16_t cid = FIELD_EX32(dw10, NVME_ABORT_DW10, CID);
    uint16_t aborted = nvme_status(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED,
                                   false);
    NvmeRequest *target = NULL, *other;

    req->dw0 = 1;
    if (nvme_sqid_valid(ctrl, sqid)) {
        QTAILQ_FOREACH(other, &ctrl->sq[sqid]->out_reqs, entry) {
            if (other != req && nvme_cid(other) == cid) {
                target = other;
                break;
            }
        }
    }
    if (!target || target->park == NVME_PARK_DELETE_SQ) {
        /* not aborted */
    } else if (target->park != NVME_PARK_NONE) {
        nvme_req_end_parked(target, aborted);
        req->dw0 = 0;
    } else if (target->aiocb) {
        target->abort_requested = true;
        req->dw0 = 0;
    }
    trace_pci_nvme_adm_abort(sqid, cid, req->dw0 == 0);
    return NVME_OK;
}

/* ---- Identify (base 5.17) ------------------------------------------------ */

static uint8_t nvme_identify_csi(NvmeRequest *req)
{
    return FIELD_EX32(le32_to_cpu(req->cmd.cdw11), NVME_IDENTIFY_DW11, CSI);
}

/*
 * The NSID of a CNS that names one namespace. FFFFFFFFh would ask for what
 * all namespaces share, which only controllers with Namespace Management
 * report (nvm 4.1.5.1): without it, that NSID is invalid too.
 */
static uint16_t nvme_identify_nsid(NvmeCtrl *ctrl, NvmeRequest *req,
                                   NvmeNamespace **ns)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    *ns = nvme_ctrl_ns(ctrl, nsid);
    return NVME_OK;
}

/* CNS 00h: an inactive NSID returns zeroes (base 5.17.2.1) */
static uint16_t nvme_identify_ns(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns;
    NvmeIdNs id;
    uint16_t status = nvme_identify_nsid(ctrl, req, &ns);

    if (status) {
        return status;
    }
    memset(&id, 0, sizeof(id));
    if (ns) {
        nvme_ns_identify(ns, &id);
    }
    return nvme_copy_to_host(ctrl, req, &id, sizeof(id));
}

static uint16_t nvme_identify_ctrl(NvmeCtrl *ctrl, NvmeRequest *req)
{
    g_autofree NvmeIdCtrl *id = g_memdup2(&ctrl->id_ctrl, sizeof(*id));
    uint64_t total, unallocated;

    /* the subsystem's capacity pool, as it is now (nvme-pool.c) */
    nvme_pool_capacity(ctrl->subsys, &total, &unallocated);
    stq_le_p(id->tnvmcap, total);
    stq_le_p(id->unvmcap, unallocated);
    return nvme_copy_to_host(ctrl, req, id, sizeof(*id));
}

/* CNS 02h/07h: active NSIDs above NSID, ascending (base 5.17.2.3) */
static uint16_t nvme_identify_ns_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t after = le32_to_cpu(req->cmd.nsid);
    uint32_t list[NVME_NSID_LIST_MAX];
    unsigned nr = 0;

    /* no NSID lies above FFFFFFFEh that could be listed */
    if (after >= NVME_NSID_BROADCAST - 1) {
        return nvme_invalid_nsid(req);
    }
    memset(list, 0, sizeof(list));
    for (uint32_t nsid = after + 1;
         nsid <= NVME_MAX_NAMESPACES && nr < ARRAY_SIZE(list); nsid++) {
        if (nvme_ctrl_ns(ctrl, nsid)) {
            list[nr++] = cpu_to_le32(nsid);
        }
    }
    return nvme_copy_to_host(ctrl, req, list, sizeof(list));
}

/* CNS 03h: an inactive NSID is an invalid field (base 3.2.1.5) */
static uint16_t nvme_identify_ns_desc_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint8_t buf[NVME_IDENTIFY_SIZE];
    NvmeNamespace *ns;
    uint16_t status = nvme_identify_nsid(ctrl, req, &ns);

    if (status) {
        return status;
    }
    if (!ns) {
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    nvme_ns_id_descriptors(ns, buf);
    return nvme_copy_to_host(ctrl, req, buf, sizeof(buf));
}

/*
 * CNS 05h: the NVM command set adds nothing to a namespace without
 * extended LBA formats, so its data structure is all zeroes (nvm 4.1.5.2)
 */
static uint16_t nvme_identify_csi_ns(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint8_t buf[NVME_IDENTIFY_SIZE];
    NvmeNamespace *ns;
    uint16_t status;

    if (nvme_identify_csi(req) != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 24));
    }
    status = nvme_identify_nsid(ctrl, req, &ns);
    if (status) {
        return status;
    }
    memset(buf, 0, sizeof(buf));
    return nvme_copy_to_host(ctrl, req, buf, sizeof(buf));
}

/* CNS 06h */
static uint16_t nvme_identify_csi_ctrl(NvmeCtrl *ctrl, NvmeRequest *req)
{
    if (nvme_identify_csi(req) != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 24));
    }
    return nvme_copy_to_host(ctrl, req, &ctrl->id_ctrl_nvm,
                             sizeof(ctrl->id_ctrl_nvm));
}

/* CNS 07h: every namespace of ours uses the NVM command set */
static uint16_t nvme_identify_csi_ns_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    if (nvme_identify_csi(req) != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 24));
    }
    return nvme_identify_ns_list(ctrl, req);
}

/* CNS 08h: an inactive NSID returns zeroes, as for CNS 00h */
static uint16_t nvme_identify_indep_ns(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns;
    NvmeIdNsIndep id;
    uint16_t status = nvme_identify_nsid(ctrl, req, &ns);

    if (status) {
        return status;
    }
    memset(&id, 0, sizeof(id));
    if (ns) {
        nvme_ns_identify_indep(ns, &id);
    }
    return nvme_copy_to_host(ctrl, req, &id, sizeof(id));
}

/* CNS 1Ah: allocated namespaces of a command set; all of ours are NVM */
static uint16_t nvme_identify_csi_alloc_ns_list(NvmeCtrl *ctrl,
                                                NvmeRequest *req)
{
    if (nvme_identify_csi(req) != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 24));
    }
    return nvme_identify_allocated_ns_list(ctrl, req);
}

/* CNS 1Ch: one command set combination, index 0: NVM alone (CAP.CSS bit 6) */
static uint16_t nvme_identify_io_cmd_sets(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeIdIoCmdSets sets;

    memset(&sets, 0, sizeof(sets));
    sets.iocsc[0] = cpu_to_le64(NVME_IOCS_NVM);
    return nvme_copy_to_host(ctrl, req, &sets, sizeof(sets));
}

/*
 * allocated namespaces and controller lists are the subsystem's: nvme-subsys.c
 */
static const NvmeCmdExec nvme_identify_cns[256] = {
    [NVME_CNS_NS]                   = nvme_identify_ns,
    [NVME_CNS_CTRL]                 = nvme_identify_ctrl,
    [NVME_CNS_ACTIVE_NS_LIST]       = nvme_identify_ns_list,
    [NVME_CNS_NS_DESC_LIST]         = nvme_identify_ns_desc_list,
    [NVME_CNS_CSI_NS]               = nvme_identify_csi_ns,
    [NVME_CNS_CSI_CTRL]             = nvme_identify_csi_ctrl,
    [NVME_CNS_CSI_ACTIVE_NS_LIST]   = nvme_identify_csi_ns_list,
    [NVME_CNS_CS_INDEP_NS]          = nvme_identify_indep_ns,
    [NVME_CNS_IO_CMD_SET]           = nvme_identify_io_cmd_sets,
    [NVME_CNS_ALLOCATED_NS_LIST]    = nvme_identify_allocated_ns_list,
    [NVME_CNS_ALLOCATED_NS]         = nvme_identify_allocated_ns,
    [NVME_CNS_NS_CTRL_LIST]         = nvme_identify_ns_ctrl_list,
    [NVME_CNS_CTRL_LIST]            = nvme_identify_subsys_ctrl_list,
    [NVME_CNS_CSI_ALLOC_NS_LIST]    = nvme_identify_csi_alloc_ns_list,
    [NVME_CNS_CSI_ALLOC_NS]         = nvme_identify_csi_ns,
};

static uint16_t nvme_admin_identify(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint8_t cns = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_IDENTIFY_DW10,
                             CNS);

    trace_pci_nvme_adm_identify(nvme_cid(req), cns, nvme_identify_csi(req),
                            le32_to_cpu(req->cmd.nsid));
    if (!nvme_identify_cns[cns]) {
        trace_pci_nvme_err_adm_identify_cns(cns);
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    return nvme_identify_cns[cns](ctrl, req);
}

/* ---- Get Log Page (base 5.16) -------------------------------------------- */

/* Fill @buf (zeroed, the log's size), or refuse a field of the command */
typedef uint16_t (*NvmeLogBuild)(NvmeCtrl *ctrl, NvmeRequest *req, void *buf);

typedef struct NvmeLogDesc {
    size_t size;
    NvmeLogBuild build;
    bool (*offered)(NvmeCtrl *ctrl);    /* NULL: always */
} NvmeLogDesc;

/* The ANA log exists where the subsystem has ANA (base 5.16.1.12) */
static bool nvme_log_ana_offered(NvmeCtrl *ctrl)
{
    return ctrl->subsys->ana;
}

static uint16_t nvme_log_supported(NvmeCtrl *ctrl, NvmeRequest *req, void *buf);

static uint16_t nvme_log_error(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    NvmeErrorLogEntry *out = buf;

    /* newest first; slots never written stay zero (error count 0: invalid) */
    for (unsigned i = 0; i < NVME_ERROR_LOG_ENTRIES; i++) {
        unsigned slot = (ctrl->error_log_next + NVME_ERROR_LOG_ENTRIES - 1 -
                         i) % NVME_ERROR_LOG_ENTRIES;
        out[i] = ctrl->error_log[slot];
    }
    return NVME_OK;
}

/* 128-bit counters in thousands of 512-byte units, rounded up (5.16.1.3) */
static uint64_t nvme_data_units(uint64_t bytes)
{
    return DIV_ROUND_UP(DIV_ROUND_UP(bytes, 512), 1000);
}

static uint16_t nvme_log_smart(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    const NvmeSmartCounters *smart = &ctrl->smart;
    NvmeSmartLog *log = buf;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    int64_t on_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - smart->power_on_ns;

    /* LPA bit 0 is 0: the log is controller-wide only (base 5.16.1.3) */
    if (nsid != 0 && nsid != NVME_NSID_BROADCAST) {
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    if (nvme_temp_warning(ctrl)) {
        log->critical_warning = NVME_SMART_WARN_TEMPERATURE;
    }
    log->critical_warning |= nvme_fault_smart_warning(ctrl);
    log->composite_temp = cpu_to_le16(ctrl->params.temperature);
    log->avail_spare = NVME_SPARE_PERCENT;
    log->avail_spare_thresh = NVME_SPARE_THRESHOLD;
    log->data_units_read[0] = cpu_to_le64(nvme_data_units(smart->bytes_read));
    log->data_units_written[0] =
        cpu_to_le64(nvme_data_units(smart->bytes_written));
    log->host_read_cmds[0] = cpu_to_le64(smart->read_cmds);
    log->host_write_cmds[0] = cpu_to_le64(smart->write_cmds);
    log->ctrl_busy_time[0] =
        cpu_to_le64(smart->busy_ns / (60 * NANOSECONDS_PER_SECOND));
    log->power_cycles[0] = cpu_to_le64(smart->power_cycles);
    log->power_on_hours[0] =
        cpu_to_le64(MAX(on_ns, 0) / (3600 * NANOSECONDS_PER_SECOND));
    log->unsafe_shutdowns[0] = cpu_to_le64(smart->unsafe_shutdowns);
    log->media_errors[0] = cpu_to_le64(smart->media_errors);
    log->num_err_log_entries[0] = cpu_to_le64(ctrl->error_count);
    return NVME_OK;
}

static uint16_t nvme_log_fw_slot(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    NvmeFwSlotLog *log = buf;

    log->afi = 1;                       /* running from slot 1, no next */
    strpadcpy(log->frs[0], sizeof(log->frs[0]), NVME_FW_REVISION, ' ');
    return NVME_OK;
}

static uint16_t nvme_log_changed_ns(NvmeCtrl *ctrl, NvmeRequest *req,
                                    void *buf)
{
    NvmeChangedNsLog *log = buf;

    /* base 5.16.1.5: more than 1,024 changes read as FFFFFFFFh alone */
    if (ctrl->nr_changed_nsids > NVME_NSID_LIST_MAX) {
        log->nsid[0] = cpu_to_le32(NVME_NSID_BROADCAST);
        return NVME_OK;
    }
    for (unsigned i = 0; i < ctrl->nr_changed_nsids; i++) {
        log->nsid[i] = cpu_to_le32(ctrl->changed_nsids[i]);
    }
    return NVME_OK;
}

static uint32_t nvme_cmd_effects(const NvmeCmdDesc *desc)
{
    return desc->exec ? cpu_to_le32(NVME_EFF_CSUPP | desc->effects) : 0;
}

/* base 5.16.1.6: the tables that dispatch are the tables reported */
static uint16_t nvme_log_cmd_effects(NvmeCtrl *ctrl, NvmeRequest *req,
                                     void *buf)
{
    NvmeEffectsLog *log = buf;
    uint8_t csi = FIELD_EX32(le32_to_cpu(req->cmd.cdw14), NVME_LOG_DW14, CSI);
    bool io = FIELD_EX32(ctrl->cc, NVME_CC, CSS) != NVME_CC_CSS_ADMIN_ONLY;

    if (csi != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw14, 24));
    }
    for (unsigned op = 0; op < ARRAY_SIZE(log->acs); op++) {
        log->acs[op] = nvme_cmd_effects(&nvme_admin_cmds[op]);
        /* with CC.CSS admin-only no I/O command is supported */
        log->iocs[op] = io ? nvme_cmd_effects(&nvme_nvm_cmds[op]) : 0;
    }
    return NVME_OK;
}

static const NvmeLogDesc nvme_logs[] = {
    [NVME_LOG_SUPPORTED]    = { sizeof(NvmeSupportedLogs), nvme_log_supported },
    [NVME_LOG_ERROR]        = { sizeof(NvmeErrorLogEntry) *
                                NVME_ERROR_LOG_ENTRIES, nvme_log_error },
    [NVME_LOG_SMART]        = { sizeof(NvmeSmartLog), nvme_log_smart },
    [NVME_LOG_FW_SLOT]      = { sizeof(NvmeFwSlotLog), nvme_log_fw_slot },
    [NVME_LOG_CHANGED_NS]   = { sizeof(NvmeChangedNsLog), nvme_log_changed_ns },
    [NVME_LOG_CMD_EFFECTS]  = { sizeof(NvmeEffectsLog), nvme_log_cmd_effects },
    /* nvme-ana.c */
    [NVME_LOG_ANA]          = { NVME_ANA_LOG_MAX, nvme_log_ana,
                                nvme_log_ana_offered },
    /* nvme-resv.c */
    [NVME_LOG_RESV_NOTICE]  = { sizeof(NvmeResvNoticeLog),
                                nvme_log_resv_notice },
};

/* base 5.16.1.1: LID 00h lists the table above */
static const NvmeLogDesc *nvme_log_desc(NvmeCtrl *ctrl, uint8_t lid)
{
    const NvmeLogDesc *log = lid < ARRAY_SIZE(nvme_logs) ? &nvme_logs[lid]
                                                         : NULL;

    if (!log || !log->build || (log->offered && !log->offered(ctrl))) {
        return NULL;
    }
    return log;
}

static uint16_t nvme_log_supported(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    NvmeSupportedLogs *log = buf;

    for (unsigned lid = 0; lid < ARRAY_SIZE(nvme_logs); lid++) {
        if (nvme_log_desc(ctrl, lid)) {
            log->lids[lid] = cpu_to_le32(NVME_LIDS_SUPPORTED);
        }
    }
    return NVME_OK;
}

/* RAE cleared: the host has the news; that kind of event may come again */
static void nvme_log_consumed(NvmeCtrl *ctrl, uint8_t lid)
{
    if (lid == NVME_LOG_CHANGED_NS) {
        ctrl->nr_changed_nsids = 0;
    }
    ctrl->masked_lids &= ~nvme_lid_bit(lid);
    nvme_aer_report(ctrl);
}

static uint16_t nvme_admin_get_log(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint8_t lid = FIELD_EX32(dw10, NVME_LOG_DW10, LID);
    bool rae = FIELD_EX32(dw10, NVME_LOG_DW10, RAE);
    /* NUMD is 0's based, in dwords; LPOL/LPOU a byte offset (LPA bit 2) */
    uint64_t numd = (uint64_t)FIELD_EX32(dw11, NVME_LOG_DW11, NUMDU) << 16 |
                    FIELD_EX32(dw10, NVME_LOG_DW10, NUMDL);
    uint64_t len = (numd + 1) * 4;
    uint64_t off = (uint64_t)le32_to_cpu(req->cmd.cdw13) << 32 |
                   le32_to_cpu(req->cmd.cdw12);
    const NvmeLogDesc *log = nvme_log_desc(ctrl, lid);
    g_autofree uint8_t *buf = NULL;
    size_t xfer = MIN(len, NVME_LOG_XFER_MAX);
    uint16_t status;

    trace_pci_nvme_adm_get_log(nvme_cid(req), lid, rae, len, off);
    if (!log) {
        trace_pci_nvme_err_adm_log_lid(lid);
        return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                              NVME_SC_INVALID_LOG_PAGE, NVME_ERR_LOC(cdw10, 0));
    }
    if (!nvme_len_within_mdts(ctrl, MIN(len, SIZE_MAX))) {
        trace_pci_nvme_err_adm_log_range(lid, len, off);
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 16));
    }
    /* the offset is dword aligned and names a byte of the log, or its end */
    if ((off & 3) || off > log->size) {
        trace_pci_nvme_err_adm_log_range(lid, len, off);
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw12, 0));
    }
    buf = g_malloc0(MAX(log->size, off + xfer));
    status = log->build(ctrl, req, buf);
    if (status) {
        return status;
    }
    status = nvme_copy_to_host(ctrl, req, buf + off, xfer);
    if (status == NVME_OK && !rae) {
        nvme_log_consumed(ctrl, lid);
    }
    return status;
}

/* ---- Format NVM (base 5.23) ---------------------------------------------- */

/*
 * One Format NVM formats its namespaces one after the other, in NSID order.
 * Each is marked from the start (ns->format_req), so that I/O to it answers
 * Format In Progress; with SES 001b it is erased by Write Zeroes (the
 * backend may unmap) before it switches to the new LBA format. The job
 * finds its namespaces through the subsystem at every step: one unplugged
 * meanwhile is gone, one detached meanwhile is still formatted.
 */
static void nvme_format_cb(NvmeRequest *req, int ret);

/* The erase of a namespace is over: switch its format, let I/O in again */
static void nvme_format_finish_ns(NvmeCtrl *ctrl, NvmeRequest *req,
                                  NvmeNamespace *ns)
{
    NvmeFormatJob *job = &req->format;
    unsigned old = ns->lbaf;

    ns->format_req = NULL;
    if (job->status) {
        return;
    }
    nvme_ns_uncorr_clear_all(ns);       /* every block was written */
    if (!nvme_ns_set_format(ns, job->lbaf)) {
        job->status = nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_FORMAT,
                                  true);
        return;
    }
    trace_pci_nvme_adm_format_ns(ns->nsid, job->lbaf);
    if (ns->lbaf != old) {
        /*
         * its Identify data changed (LBA size, size in blocks) for every
         * controller it is attached to, not only ours (base 5.16.1.5)
         */
        nvme_subsys_ns_changed(ctrl->subsys, ns);
    }
}

/* Start the next erase, finishing namespaces until one needs it */
static uint16_t nvme_format_step(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeFormatJob *job = &req->format;

    for (; job->nsid <= NVME_MAX_NAMESPACES; job->nsid++, job->offset = 0) {
        NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, job->nsid);
        uint64_t size;

        if (!ns || ns->format_req != req) {
            continue;
        }
        size = nvme_ns_bytes(ns, ns->nlbas);
        if (job->ses == NVME_FORMAT_SES_USER_DATA && !job->status &&
            job->offset < size) {
            uint64_t len = MIN(size - job->offset, NVME_FORMAT_CHUNK);
            uint16_t status = nvme_aio_zeroes(req, ns, job->offset, len,
                                              BDRV_REQ_MAY_UNMAP,
                                              nvme_format_cb);
            if (status == NVME_NO_COMPLETE) {
                job->offset += len;
                return status;
            }
            job->status = status;       /* a teardown: no more erasing */
        }
        nvme_format_finish_ns(ctrl, req, ns);
    }
    trace_pci_nvme_adm_format_done(nvme_cid(req), job->status);
    return job->status;
}

static void nvme_format_cb(NvmeRequest *req, int ret)
{
    uint16_t status;

    if (ret < 0 && !req->format.status) {
        req->format.status = nvme_status_from_errno(ret, true);
    }
    status = nvme_format_step(req->sq->ctrl, req);
    if (status != NVME_NO_COMPLETE) {
        nvme_req_complete(req, status);
    }
}

/* However the command ends (a reset, an Abort), no namespace stays marked */
static void nvme_format_release(NvmeCtrl *ctrl, NvmeRequest *req)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);

        if (ns && ns->format_req == req) {
            ns->format_req = NULL;
        }
    }
}

/* The fields of CDW10 (base 5.23); SES values above 010b are reserved */
static uint16_t nvme_format_check_cmd(NvmeRequest *req, uint32_t dw10)
{
    /* our LBA formats have no metadata, hence no protection information */
    if (FIELD_EX32(dw10, NVME_FORMAT_DW10, MSET) ||
        FIELD_EX32(dw10, NVME_FORMAT_DW10, PI) ||
        FIELD_EX32(dw10, NVME_FORMAT_DW10, PIL)) {
        return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                              NVME_SC_INVALID_FORMAT, NVME_ERR_LOC(cdw10, 4));
    }
    /* SES 010b, cryptographic erase, is not offered (FNA bit 2 is 0) */
    if (FIELD_EX32(dw10, NVME_FORMAT_DW10, SES) > NVME_FORMAT_SES_USER_DATA) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 9));
    }
    return NVME_OK;
}

static uint16_t nvme_format_check_ns(NvmeRequest *req, NvmeNamespace *ns,
                                     unsigned lbaf)
{
    if (nvme_ns_formatting(ns)) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS, false);
    }
    if (ns->read_only) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED, true);
    }
    if (!nvme_ns_lbaf_valid(ns, lbaf)) {
        return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                              NVME_SC_INVALID_FORMAT, NVME_ERR_LOC(cdw10, 0));
    }
    return NVME_OK;
}

/*
 * FNA is 0: a format applies to the namespace named, and NSID FFFFFFFFh
 * formats each attached namespace on its own (base 5.23).
 */
static uint16_t nvme_admin_format(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    /* LBAFU holds bits 5:4 of the format index, LBAFL bits 3:0 */
    unsigned lbaf = FIELD_EX32(dw10, NVME_FORMAT_DW10, LBAFU) << 4 |
                    FIELD_EX32(dw10, NVME_FORMAT_DW10, LBAFL);
    uint16_t status = nvme_format_check_cmd(req, dw10);
    unsigned nr = 0;

    if (status) {
        return status;
    }
    /* every namespace is checked before any is marked */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
            NvmeNamespace *ns = nvme_ctrl_ns(ctrl, nsid);

            if (!ns || (req->ns && req->ns != ns)) {
                continue;
            }
            if (pass == 0) {
                status = nvme_format_check_ns(req, ns, lbaf);
                if (status) {
                    return status;
                }
            } else {
                ns->format_req = req;
                nr++;
            }
        }
    }
    req->format = (NvmeFormatJob) {
        .lbaf = lbaf,
        .ses = FIELD_EX32(dw10, NVME_FORMAT_DW10, SES),
        .nsid = 1,
    };
    trace_pci_nvme_adm_format(nvme_cid(req), le32_to_cpu(req->cmd.nsid), lbaf,
                          req->format.ses, nr);
    return nvme_format_step(ctrl, req);
}

/* ---- Keep Alive (base 5.25) ---------------------------------------------- */

/* KAS is 0: no keep alive timer runs (optional over PCIe, base 3.9) */
static uint16_t nvme_admin_keep_alive(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return NVME_OK;
}

/* ---- the admin command table --------------------------------------------- */

const NvmeCmdDesc nvme_admin_cmds[256] = {
    [NVME_ADM_DELETE_SQ]    = { "delete-io-sq", nvme_admin_delete_sq, 0, 0 },
    [NVME_ADM_CREATE_SQ]    = { "create-io-sq", nvme_admin_create_sq, 0, 0 },
    [NVME_ADM_GET_LOG_PAGE] = { "get-log-page", nvme_admin_get_log, 0, 0 },
    [NVME_ADM_DELETE_CQ]    = { "delete-io-cq", nvme_admin_delete_cq, 0, 0 },
    [NVME_ADM_CREATE_CQ]    = { "create-io-cq", nvme_admin_create_cq, 0, 0 },
    [NVME_ADM_IDENTIFY]     = { "identify", nvme_admin_identify, 0, 0 },
    [NVME_ADM_ABORT]        = { "abort", nvme_admin_abort, 0, 0 },
    [NVME_ADM_SET_FEATURES] = { "set-features", nvme_admin_set_features, 0, 0 },
    [NVME_ADM_GET_FEATURES] = { "get-features", nvme_admin_get_features, 0, 0 },
    [NVME_ADM_ASYNC_EVENT]  = { "async-event-request", nvme_admin_aer, 0, 0 },
    [NVME_ADM_KEEP_ALIVE]   = { "keep-alive", nvme_admin_keep_alive, 0, 0 },
    /* creates and deletes namespaces of the capacity pool (nvme-pool.c) */
    [NVME_ADM_NS_MANAGEMENT] = { "namespace-management", nvme_admin_ns_mgmt,
                                 NVME_EFF_NIC | NVME_EFF_CCC, 0 },
    /* changes which namespaces a controller sees (nvme-subsys.c) */
    [NVME_ADM_NS_ATTACHMENT] = { "namespace-attachment",
                                 nvme_admin_ns_attachment,
                                 NVME_EFF_NIC | NVME_EFF_CCC, 0 },
    [NVME_ADM_DBBUF_CONFIG] = { "doorbell-buffer-config",
                                nvme_admin_dbbuf_config, 0, 0 },
    /* data and LBA format change, possibly on every namespace (FFFFFFFFh) */
    [NVME_ADM_FORMAT_NVM]   = { "format-nvm", nvme_admin_format,
                                NVME_EFF_LBCC | NVME_EFF_NCC | NVME_EFF_NIC |
                                NVME_EFF_CSE_SINGLE_NS,
                                NVME_CMDF_NS | NVME_CMDF_NS_BCAST,
                                .release = nvme_format_release },
};

/* ---- controller state: initial and after reset --------------------------- */

/* ONCS follows the NVM command table, so the two cannot disagree */
static uint16_t nvme_oncs(void)
{
    static const struct {
        uint8_t opcode;
        uint16_t bit;
    } optional[] = {
        { NVME_IO_COMPARE, NVME_ONCS_COMPARE },
        { NVME_IO_WRITE_UNCORRECTABLE, NVME_ONCS_WRITE_UNCORR },
        { NVME_IO_DSM, NVME_ONCS_DSM },
        { NVME_IO_WRITE_ZEROES, NVME_ONCS_WRITE_ZEROES },
        { NVME_IO_VERIFY, NVME_ONCS_VERIFY },
        { NVME_IO_COPY, NVME_ONCS_COPY },
        { NVME_IO_RESV_REGISTER, NVME_ONCS_RESERVATIONS },
    };
    uint16_t oncs = NVME_ONCS_TIMESTAMP;

    for (unsigned i = 0; i < ARRAY_SIZE(optional); i++) {
        if (nvme_nvm_cmds[optional[i].opcode].exec) {
            oncs |= optional[i].bit;
        }
    }
    return oncs;
}

/* base 5.17.2.2: controller capabilities and features */
static void nvme_init_id_ctrl_caps(NvmeCtrl *ctrl, NvmeIdCtrl *id)
{
    const uint8_t *conf = PCI_DEVICE(ctrl)->config;

    id->vid = cpu_to_le16(pci_get_word(conf + PCI_VENDOR_ID));
    id->ssvid = cpu_to_le16(pci_get_word(conf + PCI_SUBSYSTEM_VENDOR_ID));
    /* base 2.0 5.17.2.2: SN is the NVM subsystem's when it has one */
    strpadcpy(id->sn, sizeof(id->sn),
              ctrl->subsys->serial ?: ctrl->params.serial, ' ');
    strpadcpy(id->mn, sizeof(id->mn),
              ctrl->params.model ?: NVME_MODEL_DEFAULT, ' ');
    strpadcpy(id->fr, sizeof(id->fr), NVME_FW_REVISION, ' ');
    id->rab = 6;
    /* QEMU's OUI 52:54:00, least significant byte first */
    id->ieee[0] = 0x00;
    id->ieee[1] = 0x54;
    id->ieee[2] = 0x52;
    /* base 5.17.2.2: several controllers may share the NVM subsystem */
    id->cmic = nvme_subsys_multi_ctrl(ctrl->subsys) ? NVME_CMIC_MULTI_CTRL : 0;
    id->mdts = ctrl->params.mdts;
    id->cntlid = cpu_to_le16(ctrl->cntlid);
    id->ver = cpu_to_le32(ctrl->vs);
    /* firmware activation notices: only injected ones (nvme-event-inject) */
    id->oaes = cpu_to_le32(NVME_OAES_NS_ATTR | NVME_OAES_FW_ACTIVATION);
    id->ctratt = cpu_to_le32(NVME_CTRATT_HOSTID_128);  /* feature 81h */
    id->cntrltype = NVME_CNTRLTYPE_IO;
}

/* base 5.17.2.2: admin command set attributes */
static void nvme_init_id_ctrl_admin(NvmeCtrl *ctrl, NvmeIdCtrl *id)
{
    /*
     * NS_MGMT (Namespace Management and Attachment) only with a capacity
     * pool: Linux takes the bit to mean that NSIDs are unique in the
     * subsystem and makes a multipath device of every namespace, private
     * ones included. Namespace Attachment works either way.
     */
    id->oacs = cpu_to_le16(NVME_OACS_FORMAT | NVME_OACS_DBBUF |
                           (ctrl->subsys->pool ? NVME_OACS_NS_MGMT : 0));
    id->acl = 3;
    id->aerl = NVME_AERL;
    id->frmw = NVME_FRMW_SLOT1_RO | NVME_FRMW_NSLOTS(1);
    id->lpa = NVME_LPA_CMD_EFFECTS | NVME_LPA_EXTENDED;
    id->elpe = NVME_ERROR_LOG_ENTRIES - 1;
    id->npss = 0;
    id->wctemp = cpu_to_le16(NVME_DEFAULT_TEMP_OVER);
    id->cctemp = cpu_to_le16(NVME_CCTEMP_K);
    id->psd[0].mp = cpu_to_le16(NVME_PSD0_MP_CW);
}

/* base 5.17.2.2: NVM command set attributes */
static void nvme_init_id_ctrl_nvm_attrs(NvmeCtrl *ctrl, NvmeIdCtrl *id)
{
    /* 64-byte SQEs and 16-byte CQEs, required and maximum alike */
    id->sqes = FIELD_DP32(0, NVME_QES, MIN, 6);
    id->sqes = FIELD_DP32(id->sqes, NVME_QES, MAX, 6);
    id->cqes = FIELD_DP32(0, NVME_QES, MIN, 4);
    id->cqes = FIELD_DP32(id->cqes, NVME_QES, MAX, 4);
    id->maxcmd = cpu_to_le16(MIN(FIELD_EX64(ctrl->cap, NVME_CAP, MQES) + 1,
                                 UINT16_MAX));
    id->nn = cpu_to_le32(NVME_MAX_NAMESPACES);
    id->oncs = cpu_to_le16(nvme_oncs());
    if (id->oncs & cpu_to_le16(NVME_ONCS_COPY)) {
        id->ocfs = cpu_to_le16(NVME_OCFS_FORMAT0);
    }
    id->fna = 0;
    id->vwc = NVME_VWC_PRESENT | NVME_VWC_NSID_BCAST_OK;
    /*
     * Data Block descriptors, no alignment; no bit buckets, no SGL longer
     * than the transfer, no keyed SGLs
     */
    id->sgls = cpu_to_le32(ctrl->params.sgl ? NVME_SGLS_SUPPORTED : 0);
    id->mnan = 0;
    pstrcpy(id->subnqn, sizeof(id->subnqn), ctrl->subnqn);
}

/*
 * nvm 4.1.5.2 (CNS 06h, CSI 00h): every limit 0, "none reported", because
 * none applies: Write Zeroes and Verify move no data and so are not bound
 * by MDTS, a Dataset Management range may be as long as its NLB field
 * allows, and DMRL 0 leaves the command's own 256 ranges.
 */
static void nvme_init_id_ctrl_nvm(NvmeCtrl *ctrl)
{
    memset(&ctrl->id_ctrl_nvm, 0, sizeof(ctrl->id_ctrl_nvm));
}

/* The drive= backend's write cache; true while there is no namespace */
static bool nvme_drive_write_cache(NvmeCtrl *ctrl)
{
    NvmeNamespace *ns = ctrl->drive_ns;

    for (unsigned nsid = 1; !ns && nsid <= NVME_MAX_NAMESPACES; nsid++) {
        ns = ctrl->namespaces[nsid];
    }
    return ns ? blk_enable_write_cache(nvme_ns_blk(ns)) : true;
}

void nvme_admin_drive_added(NvmeCtrl *ctrl)
{
    ctrl->vwc_default = nvme_drive_write_cache(ctrl);
    ctrl->features.vwc = ctrl->vwc_default;
}

void nvme_admin_init_ctrl(NvmeCtrl *ctrl)
{
    NvmeIdCtrl *id = &ctrl->id_ctrl;

    memset(id, 0, sizeof(*id));
    nvme_init_id_ctrl_caps(ctrl, id);
    nvme_init_id_ctrl_admin(ctrl, id);
    nvme_init_id_ctrl_nvm_attrs(ctrl, id);
    nvme_ana_init_id_ctrl(ctrl, id);
    nvme_init_id_ctrl_nvm(ctrl);
    ctrl->vwc_default = nvme_drive_write_cache(ctrl);
    nvme_features_defaults(ctrl, &ctrl->features);
    ctrl->features.irq_coalesce_off = bitmap_new(ctrl->params.msix_qsize);
}

/*
 * base 3.7.2: a controller reset forgets queued events (nvme.c has ended
 * the outstanding AERs without completion).
 * None of our features persists across a reset (base 5.27.1, Feature
 * Identifiers figure): all return to their defaults, the Timestamp restarts
 * at 0 with origin 000b, Host Behavior Support is cleared (hosts set it at
 * each initialization). The error log, the SMART counters and the Changed
 * Namespace List are kept.
 */
void nvme_admin_reset(NvmeCtrl *ctrl)
{
    unsigned long *irq_off = ctrl->features.irq_coalesce_off;
    NvmeAsyncEvent *event, *next;

    QSIMPLEQ_FOREACH_SAFE(event, &ctrl->events, entry, next) {
        g_free(event);
    }
    QSIMPLEQ_INIT(&ctrl->events);
    ctrl->nr_events = 0;
    ctrl->masked_lids = 0;
    if (ctrl->features.vwc != ctrl->vwc_default) {
        nvme_apply_vwc(ctrl, ctrl->vwc_default);
    }
    nvme_features_defaults(ctrl, &ctrl->features);
    ctrl->features.irq_coalesce_off = irq_off;
    if (irq_off) {
        bitmap_zero(irq_off, ctrl->params.msix_qsize);
    }
}
