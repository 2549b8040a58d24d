/*
 * Faults injected from the monitor, to see what a host stack does when an
 * NVMe device misbehaves: failing paths, media errors, write protection,
 * latency, a stalled or fatally failed controller, SMART warnings, a
 * controller pulled out of its slot and put back.
 *
 * A fault belongs to a subsystem (subsys->faults) and applies to one of its
 * controllers or to all, optionally to one namespace. It lasts until it is
 * removed, until it has changed @count commands, until @duration-ms of
 * virtual time, or (stall, cfs) until its controller is reset; an
 * NVME_FAULT event marks its start and its end. The I/O path asks only
 * when the subsystem has faults (subsys->nr_faults).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "qapi/qapi-events-nvme.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "nvme.h"
#include "nvme-fault.h"
#include "trace.h"

#define NVME_FAULTS_MAX         64      /* active faults per subsystem */
#define NVME_FAULT_LATENCY_MAX  60000   /* ms */

struct NvmeFault {
    QTAILQ_ENTRY(NvmeFault) entry;
    uint32_t    num;
    NvmeFaultKind kind;
    NvmeSubsystem *subsys;
    NvmeCtrl    *ctrl;                  /* NULL: every controller */
    char        *id;                    /* the scope as the user named it */
    uint32_t    nsid;                   /* 0: every namespace */
    uint16_t    status;                 /* status: with DNR */
    uint64_t    slba, nlb;              /* media-read, media-write */
    uint32_t    latency_ms;
    uint32_t    jitter_ms;
    uint8_t     warning;                /* NVME_SMART_WARN_* */
    uint32_t    remaining;              /* commands; 0: no count */
    QEMUTimer   *timer;                 /* its duration */
    uint64_t    hits;
};

static uint32_t nvme_fault_next_num = 1;

/* ---- ending a fault ------------------------------------------------------ */

static void nvme_fault_end(NvmeFault *f, NvmeFaultEndReason why)
{
    NvmeSubsystem *subsys = f->subsys;
    NvmeNamespace *ns;

    QTAILQ_REMOVE(&subsys->faults, f, entry);
    subsys->nr_faults--;
    if (f->timer) {
        timer_free(f->timer);
    }
    switch (f->kind) {
    case NVME_FAULT_KIND_STALL:
        f->ctrl->fault_stall--;
        nvme_ctrl_kick(f->ctrl);
        break;
    case NVME_FAULT_KIND_CFS:
        if (why != NVME_FAULT_END_REASON_RESET &&
            why != NVME_FAULT_END_REASON_UNPLUGGED) {
            /* removed before the host reset it: the controller goes on */
            f->ctrl->csts = FIELD_DP32(f->ctrl->csts, NVME_CSTS, CFS, 0);
            nvme_ctrl_kick(f->ctrl);
        }
        break;
    case NVME_FAULT_KIND_WRITE_PROTECT:
        ns = nvme_subsys_ns(subsys, f->nsid);
        if (ns) {
            nvme_subsys_ns_changed(subsys, ns);    /* NSATTR changed */
        }
        break;
    case NVME_FAULT_KIND_SURPRISE_REMOVAL:
        if (why != NVME_FAULT_END_REASON_UNPLUGGED) {
            nvme_ctrl_set_present(f->ctrl, true);
        }
        break;
    default:
        break;
    }
    trace_pci_nvme_fault_end(f->num, NvmeFaultKind_str(f->kind),
                             NvmeFaultEndReason_str(why), f->hits);
    qapi_event_send_nvme_fault(f->num, f->kind, f->id, false, true, why);
    g_free(f->id);
    g_free(f);
}

static void nvme_fault_expired(void *opaque)
{
    nvme_fault_end(opaque, NVME_FAULT_END_REASON_DURATION);
}

/* The fault changed a command; a counted one may end with it */
static void nvme_fault_hit(NvmeFault *f)
{
    f->hits++;
    if (f->remaining && --f->remaining == 0) {
        nvme_fault_end(f, NVME_FAULT_END_REASON_COUNT);
    }
}

void nvme_fault_ctrl_reset(NvmeCtrl *ctrl)
{
    NvmeFault *f, *next;

    QTAILQ_FOREACH_SAFE(f, &ctrl->subsys->faults, entry, next) {
        if (f->ctrl == ctrl && (f->kind == NVME_FAULT_KIND_STALL ||
                                f->kind == NVME_FAULT_KIND_CFS)) {
            nvme_fault_end(f, NVME_FAULT_END_REASON_RESET);
        }
    }
}

void nvme_fault_ctrl_gone(NvmeCtrl *ctrl)
{
    NvmeFault *f, *next;

    QTAILQ_FOREACH_SAFE(f, &ctrl->subsys->faults, entry, next) {
        if (f->ctrl == ctrl) {
            nvme_fault_end(f, NVME_FAULT_END_REASON_UNPLUGGED);
        }
    }
}

void nvme_fault_subsys_gone(NvmeSubsystem *subsys)
{
    NvmeFault *f, *next;

    QTAILQ_FOREACH_SAFE(f, &subsys->faults, entry, next) {
        nvme_fault_end(f, NVME_FAULT_END_REASON_UNPLUGGED);
    }
}

/* ---- what the I/O path asks ---------------------------------------------- */

static bool nvme_fault_on(NvmeFault *f, NvmeCtrl *ctrl, uint32_t nsid)
{
    return (!f->ctrl || f->ctrl == ctrl) && (!f->nsid || f->nsid == nsid);
}

/* A delayed command's time has come: the controller's guarded BH runs it */
static void nvme_fault_delay_timer(void *opaque)
{
    NvmeRequest *req = opaque;

    req->delay_due = true;
    qemu_bh_schedule(req->sq->ctrl->fault_bh);
}

/*
 * A delayed command starts as if fetched now: the gates again (its namespace
 * may be detached, its ANA group inaccessible, a reservation taken). While
 * its queue fetches nothing (a stall, CFS) it waits on: nvme_ctrl_kick()
 * runs this BH again when that ends.
 */
static void nvme_fault_delay_end(NvmeRequest *req, void *opaque)
{
    NvmeCtrl *ctrl = req->sq->ctrl;

    if (!req->delay_due || !nvme_sq_fetching(ctrl, req->sq)) {
        return;
    }
    nvme_req_unpark(req);
    nvme_req_run_delayed(ctrl, req);
}

void nvme_fault_delay_bh(void *opaque)
{
    nvme_ctrl_foreach_parked(opaque, BIT(NVME_PARK_DELAY),
                             nvme_fault_delay_end, NULL);
}

uint16_t nvme_fault_cmd(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t nsid = req->ns ? req->ns->nsid : 0;
    uint32_t delay_ms = 0;
    uint16_t status = NVME_OK;
    NvmeFault *f, *next;

    if (req->sq->sqid == NVME_ADMIN_QID) {
        return NVME_OK;         /* the host's way back is left alone */
    }
    QTAILQ_FOREACH_SAFE(f, &ctrl->subsys->faults, entry, next) {
        if (!nvme_fault_on(f, ctrl, nsid)) {
            continue;
        }
        if (f->kind == NVME_FAULT_KIND_STATUS && !status) {
            status = f->status;
            nvme_fault_hit(f);
        } else if (f->kind == NVME_FAULT_KIND_LATENCY && !status) {
            uint32_t ms = f->latency_ms;

            if (f->jitter_ms) {
                ms += g_random_int_range(0, f->jitter_ms + 1);
            }
            delay_ms = MAX(delay_ms, ms);
            nvme_fault_hit(f);
        }
    }
    if (status || !delay_ms) {
        return status;
    }
    if (!req->delay_timer) {
        req->delay_timer = aio_timer_new(nvme_ctx(ctrl), QEMU_CLOCK_VIRTUAL,
                                         SCALE_MS, nvme_fault_delay_timer,
                                         req);
    }
    req->delay_due = false;
    nvme_req_park(req, NVME_PARK_DELAY);
    timer_mod(req->delay_timer,
              qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + delay_ms);
    return NVME_NO_COMPLETE;
}

uint16_t nvme_fault_range(NvmeRequest *req, uint64_t slba, uint64_t nlb,
                          bool is_write)
{
    NvmeCtrl *ctrl = req->sq->ctrl;
    NvmeFault *f, *next;

    QTAILQ_FOREACH_SAFE(f, &ctrl->subsys->faults, entry, next) {
        bool media = f->kind == (is_write ? NVME_FAULT_KIND_MEDIA_WRITE
                                          : NVME_FAULT_KIND_MEDIA_READ);

        if (f->nsid != req->ns->nsid) {
            continue;
        }
        if (f->kind == NVME_FAULT_KIND_WRITE_PROTECT && is_write) {
            nvme_fault_hit(f);
            return nvme_status(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED,
                               true);
        }
        if (media && (!f->ctrl || f->ctrl == ctrl) &&
            slba < f->slba + f->nlb && f->slba < slba + nlb) {
            req->error_lba = MAX(slba, f->slba);
            ctrl->smart.media_errors++;
            nvme_fault_hit(f);
            return nvme_status(NVME_SCT_MEDIA,
                               is_write ? NVME_SC_WRITE_FAULT
                                        : NVME_SC_UNRECOVERED_READ, true);
        }
    }
    return NVME_OK;
}

bool nvme_fault_ns_wp(NvmeNamespace *ns)
{
    NvmeSubsystem *subsys = ns->registered;
    NvmeFault *f;

    if (!subsys || !subsys->nr_faults) {
        return false;
    }
    QTAILQ_FOREACH(f, &subsys->faults, entry) {
        if (f->kind == NVME_FAULT_KIND_WRITE_PROTECT && f->nsid == ns->nsid) {
            return true;
        }
    }
    return false;
}

uint8_t nvme_fault_smart_warning(NvmeCtrl *ctrl)
{
    uint8_t warning = 0;
    NvmeFault *f;

    QTAILQ_FOREACH(f, &ctrl->subsys->faults, entry) {
        if (f->kind == NVME_FAULT_KIND_SMART_WARNING &&
            nvme_fault_on(f, ctrl, 0)) {
            warning |= f->warning;
        }
    }
    return warning;
}

/* ---- injecting ----------------------------------------------------------- */

static const uint8_t nvme_fault_warning_bit[NVME_SMART_WARNING__MAX] = {
    [NVME_SMART_WARNING_SPARE]           = NVME_SMART_WARN_SPARE,
    [NVME_SMART_WARNING_TEMPERATURE]     = NVME_SMART_WARN_TEMPERATURE,
    [NVME_SMART_WARNING_RELIABILITY]     = NVME_SMART_WARN_RELIABILITY,
    [NVME_SMART_WARNING_READ_ONLY]       = NVME_SMART_WARN_READ_ONLY,
    [NVME_SMART_WARNING_VOLATILE_BACKUP] = NVME_SMART_WARN_VOLATILE_BK,
};

/* base 5.2: the SMART event that reports a Critical Warning bit */
static uint8_t nvme_fault_warning_event(NvmeSmartWarning w)
{
    switch (w) {
    case NVME_SMART_WARNING_SPARE:
        return NVME_AER_INFO_SMART_SPARE;
    case NVME_SMART_WARNING_TEMPERATURE:
        return NVME_AER_INFO_SMART_TEMP_THRESHOLD;
    default:
        return NVME_AER_INFO_SMART_RELIABILITY;
    }
}

static bool nvme_fault_kind_in(NvmeFaultKind kind, const char *what,
                               unsigned mask, Error **errp)
{
    if (!(mask & BIT(kind))) {
        error_setg(errp, "'%s' does not apply to a %s fault", what,
                   NvmeFaultKind_str(kind));
        return false;
    }
    return true;
}

#define K(k)    BIT(NVME_FAULT_KIND_##k)

/* Everything the arguments say, checked before anything changes */
static bool nvme_fault_check(NvmeFault *f, NvmeNamespace **nsp, bool has_nsid,
                             bool has_status, uint16_t status, bool has_dnr,
                             bool has_slba, bool has_nlb, uint64_t nlb,
                             bool has_latency, bool has_jitter,
                             bool has_warning, bool has_count, Error **errp)
{
    NvmeSubsystem *subsys = f->subsys;
    NvmeNamespace *ns = NULL;
    NvmeFault *o;

    if ((has_nsid && !nvme_fault_kind_in(f->kind, "nsid",
            K(STATUS) | K(MEDIA_READ) | K(MEDIA_WRITE) | K(WRITE_PROTECT) |
            K(LATENCY), errp)) ||
        ((has_status || has_dnr) &&
         !nvme_fault_kind_in(f->kind, "status", K(STATUS), errp)) ||
        ((has_slba || has_nlb) && !nvme_fault_kind_in(f->kind, "slba/nlb",
            K(MEDIA_READ) | K(MEDIA_WRITE), errp)) ||
        ((has_latency || has_jitter) &&
         !nvme_fault_kind_in(f->kind, "latency-ms/jitter-ms", K(LATENCY),
                             errp)) ||
        (has_warning && !nvme_fault_kind_in(f->kind, "warning",
                                            K(SMART_WARNING), errp)) ||
        (has_count && !nvme_fault_kind_in(f->kind, "count", K(STATUS) |
            K(MEDIA_READ) | K(MEDIA_WRITE) | K(LATENCY), errp))) {
        return false;
    }
    if (has_count && !f->remaining) {
        error_setg(errp, "'count' must be at least 1");
        return false;
    }
    if (has_nsid) {
        ns = nvme_subsys_ns(subsys, f->nsid);
        if (!ns) {
            error_setg(errp, "subsystem %s has no namespace %u",
                       subsys->subnqn, f->nsid);
            return false;
        }
    }
    switch (f->kind) {
    case NVME_FAULT_KIND_STATUS:
        if (!has_status || !status || status > 0x7ff) {
            error_setg(errp, "a status fault needs 'status', 1 to 0x7ff: the "
                       "Status Code Type in bits 10:8, the Status Code in "
                       "bits 7:0 (e.g. 0x302, ANA inaccessible)");
            return false;
        }
        break;
    case NVME_FAULT_KIND_MEDIA_READ:
    case NVME_FAULT_KIND_MEDIA_WRITE:
    case NVME_FAULT_KIND_WRITE_PROTECT:
        if (!ns) {
            error_setg(errp, "a %s fault needs 'nsid'",
                       NvmeFaultKind_str(f->kind));
            return false;
        }
        if (f->kind == NVME_FAULT_KIND_WRITE_PROTECT) {
            break;
        }
        if (f->slba >= ns->nlbas) {
            error_setg(errp, "'slba' %" PRIu64 " is beyond namespace %u (%"
                       PRIu64 " blocks)", f->slba, f->nsid, ns->nlbas);
            return false;
        }
        f->nlb = has_nlb ? nlb : ns->nlbas - f->slba;
        if (!f->nlb || f->nlb > ns->nlbas - f->slba) {
            error_setg(errp, "'nlb' %" PRIu64 " does not fit namespace %u "
                       "(%" PRIu64 " blocks from slba %" PRIu64 ")", nlb,
                       f->nsid, ns->nlbas, f->slba);
            return false;
        }
        break;
    case NVME_FAULT_KIND_LATENCY:
        if (!has_latency || !f->latency_ms ||
            f->latency_ms > NVME_FAULT_LATENCY_MAX) {
            error_setg(errp, "a latency fault needs 'latency-ms', 1 to %d",
                       NVME_FAULT_LATENCY_MAX);
            return false;
        }
        if (f->jitter_ms > NVME_FAULT_LATENCY_MAX) {
            error_setg(errp, "'jitter-ms' is at most %d",
                       NVME_FAULT_LATENCY_MAX);
            return false;
        }
        break;
    case NVME_FAULT_KIND_STALL:
    case NVME_FAULT_KIND_CFS:
    case NVME_FAULT_KIND_SURPRISE_REMOVAL:
        if (!f->ctrl) {
            error_setg(errp, "a %s fault needs a controller id, not a "
                       "subsystem", NvmeFaultKind_str(f->kind));
            return false;
        }
        if (f->ctrl->removed) {
            error_setg(errp, "controller '%s' is removed (a surprise-removal "
                       "fault): remove that first", f->id);
            return false;
        }
        if (f->kind == NVME_FAULT_KIND_SURPRISE_REMOVAL) {
            break;              /* enabled or not, it can be pulled */
        }
        if (!nvme_ctrl_ready(f->ctrl)) {
            error_setg(errp, "controller '%s' is not enabled (or already "
                       "stopped): nothing to %s", f->id,
                       NvmeFaultKind_str(f->kind));
            return false;
        }
        break;
    case NVME_FAULT_KIND_SMART_WARNING:
        if (!has_warning) {
            error_setg(errp, "a smart-warning fault needs 'warning'");
            return false;
        }
        break;
    default:
        break;
    }
    QTAILQ_FOREACH(o, &subsys->faults, entry) {
        if ((f->kind == NVME_FAULT_KIND_WRITE_PROTECT &&
             o->kind == f->kind && o->nsid == f->nsid) ||
            ((f->kind == NVME_FAULT_KIND_STALL ||
              f->kind == NVME_FAULT_KIND_CFS) && o->kind == f->kind &&
             o->ctrl == f->ctrl)) {
            error_setg(errp, "fault %u does that already", o->num);
            return false;
        }
    }
    if (subsys->nr_faults >= NVME_FAULTS_MAX) {
        error_setg(errp, "subsystem %s has %d faults, the most it keeps: "
                   "remove one first", subsys->subnqn, NVME_FAULTS_MAX);
        return false;
    }
    *nsp = ns;
    return true;
}

static NvmeFaultInfo *nvme_fault_info(NvmeFault *f)
{
    NvmeFaultInfo *info = g_new0(NvmeFaultInfo, 1);

    info->fault = f->num;
    info->kind = f->kind;
    info->id = g_strdup(f->id);
    info->has_nsid = f->nsid != 0;
    info->nsid = f->nsid;
    info->hits = f->hits;
    info->has_remaining = f->remaining != 0;
    info->remaining = f->remaining;
    if (f->timer && timer_pending(f->timer)) {
        int64_t left = timer_expire_time_ns(f->timer) -
                       qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

        info->has_remaining_ms = true;
        info->remaining_ms = MAX(left, 0) / SCALE_MS;
    }
    return info;
}

/* Start it: what changes at once, and who is told */
static void nvme_fault_start(NvmeFault *f, NvmeNamespace *ns)
{
    NvmeSubsystem *subsys = f->subsys;

    QTAILQ_INSERT_TAIL(&subsys->faults, f, entry);
    subsys->nr_faults++;
    trace_pci_nvme_fault_start(f->num, NvmeFaultKind_str(f->kind), f->id,
                               f->nsid);
    qapi_event_send_nvme_fault(f->num, f->kind, f->id, true, false, 0);
    switch (f->kind) {
    case NVME_FAULT_KIND_STALL:
        f->ctrl->fault_stall++;
        break;
    case NVME_FAULT_KIND_CFS:
        f->ctrl->csts = FIELD_DP32(f->ctrl->csts, NVME_CSTS, CFS, 1);
        break;
    case NVME_FAULT_KIND_WRITE_PROTECT:
        nvme_subsys_ns_changed(subsys, ns);
        break;
    case NVME_FAULT_KIND_SURPRISE_REMOVAL:
        nvme_ctrl_set_present(f->ctrl, false);
        break;
    default:
        break;
    }
}

NvmeFaultInfo *qmp_nvme_fault_inject(const char *id, NvmeFaultKind kind,
                                     bool has_nsid, uint32_t nsid,
                                     bool has_status, uint16_t status,
                                     bool has_dnr, bool dnr,
                                     bool has_slba, uint64_t slba,
                                     bool has_nlb, uint64_t nlb,
                                     bool has_latency_ms, uint32_t latency_ms,
                                     bool has_jitter_ms, uint32_t jitter_ms,
                                     bool has_warning, NvmeSmartWarning warning,
                                     bool has_count, uint32_t count,
                                     bool has_duration_ms,
                                     uint32_t duration_ms, Error **errp)
{
    g_autofree NvmeFault *f = g_new0(NvmeFault, 1);
    NvmeNamespace *ns = NULL;
    NvmeCtrl *ctrl;
    NvmeFault *started;
    NvmeFaultInfo *info;

    f->subsys = nvme_subsys_resolve(id, &ctrl, errp);
    if (!f->subsys) {
        return NULL;
    }
    f->kind = kind;
    f->ctrl = ctrl;
    f->id = (char *)id;
    f->nsid = has_nsid ? nsid : 0;
    f->status = status | (dnr ? NVME_DNR : 0);
    f->slba = has_slba ? slba : 0;
    f->latency_ms = latency_ms;
    f->jitter_ms = jitter_ms;
    f->warning = has_warning ? nvme_fault_warning_bit[warning] : 0;
    f->remaining = has_count ? count : 0;
    if (kind == NVME_FAULT_KIND_SURPRISE_REMOVAL && f->subsys->ctx) {
        /* it resets the PCI function, which only the main loop may do */
        error_setg(errp, "surprise-removal is not supported on a "
                   "controller with iothread=");
        return NULL;
    }
    if (has_duration_ms && !duration_ms) {
        error_setg(errp, "'duration-ms' must be at least 1");
        return NULL;
    }
    nvme_subsys_pause(f->subsys);
    if (!nvme_fault_check(f, &ns, has_nsid, has_status, status, has_dnr,
                          has_slba, has_nlb, nlb, has_latency_ms,
                          has_jitter_ms, has_warning, has_count, errp)) {
        nvme_subsys_resume(f->subsys);
        return NULL;
    }
    started = g_steal_pointer(&f);
    started->id = g_strdup(id);
    started->num = nvme_fault_next_num++;
    if (has_duration_ms) {
        started->timer = aio_timer_new(nvme_subsys_ctx(started->subsys),
                                       QEMU_CLOCK_VIRTUAL, SCALE_MS,
                                       nvme_fault_expired, started);
        timer_mod(started->timer,
                  qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + duration_ms);
    }
    nvme_fault_start(started, ns);
    if (kind == NVME_FAULT_KIND_SMART_WARNING) {
        for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
            NvmeCtrl *c = started->subsys->ctrls[slot];

            if (c && (!ctrl || c == ctrl)) {
                nvme_enqueue_event(c, NVME_AER_TYPE_SMART,
                                   nvme_fault_warning_event(warning),
                                   NVME_LOG_SMART);
            }
        }
    }
    info = nvme_fault_info(started);
    nvme_subsys_resume(started->subsys);
    return info;
}

/* ---- notices ------------------------------------------------------------- */

static void nvme_event_inject_owned(NvmeSubsystem *subsys, NvmeCtrl *ctrl,
                                    NvmeNoticeEvent event, bool has_nsid,
                                    uint32_t nsid, Error **errp);

void qmp_nvme_event_inject(const char *id, NvmeNoticeEvent event,
                           bool has_nsid, uint32_t nsid, Error **errp)
{
    NvmeCtrl *ctrl;
    NvmeSubsystem *subsys = nvme_subsys_resolve(id, &ctrl, errp);

    if (!subsys) {
        return;
    }
    nvme_subsys_pause(subsys);
    nvme_event_inject_owned(subsys, ctrl, event, has_nsid, nsid, errp);
    nvme_subsys_resume(subsys);
}

static void nvme_event_inject_owned(NvmeSubsystem *subsys, NvmeCtrl *ctrl,
                                    NvmeNoticeEvent event, bool has_nsid,
                                    uint32_t nsid, Error **errp)
{
    NvmeNamespace *ns = NULL;

    if (event == NVME_NOTICE_EVENT_NAMESPACE_ATTRIBUTE) {
        ns = has_nsid ? nvme_subsys_ns(subsys, nsid) : NULL;
        if (!ns) {
            error_setg(errp, "namespace-attribute needs 'nsid', a namespace "
                       "of subsystem %s", subsys->subnqn);
            return;
        }
    } else if (has_nsid) {
        error_setg(errp, "'nsid' does not apply to %s",
                   NvmeNoticeEvent_str(event));
        return;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        NvmeCtrl *c = subsys->ctrls[slot];

        if (!c || (ctrl && c != ctrl)) {
            continue;
        }
        if (ns && nvme_ctrl_ns(c, nsid) == ns) {
            nvme_ns_changed(c, nsid);
        } else if (!ns) {
            nvme_enqueue_event(c, NVME_AER_TYPE_NOTICE,
                               NVME_AER_INFO_NOTICE_FW_ACTIVATION,
                               NVME_LOG_FW_SLOT);
        }
    }
}

/* HMP: nvme_event_inject <id> <event> [nsid] */
void hmp_nvme_event_inject(Monitor *mon, const QDict *qdict)
{
    const char *id = qdict_get_str(qdict, "id");
    const char *name = qdict_get_str(qdict, "event");
    bool has_nsid = qdict_haskey(qdict, "nsid");
    int64_t nsid = qdict_get_try_int(qdict, "nsid", 0);
    int event = qapi_enum_parse(&NvmeNoticeEvent_lookup, name, -1, NULL);
    Error *err = NULL;

    if (event < 0) {
        error_setg(&err, "unknown event '%s': use namespace-attribute or "
                   "firmware-activation", name);
    } else if (nsid < 0 || nsid > UINT32_MAX) {
        error_setg(&err, "nsid %" PRId64 " is out of range", nsid);
    } else {
        qmp_nvme_event_inject(id, event, has_nsid, nsid, &err);
    }
    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "%s: %s event injected\n", id, name);
}

/* ---- every subsystem's faults -------------------------------------------- */

typedef struct NvmeFaultWalk {
    uint32_t num;                       /* nvme-fault-remove: the one */
    bool found;                         /* ... and ended */
    NvmeFaultInfoList **tail;           /* query-nvme-faults */
} NvmeFaultWalk;

static int nvme_fault_walk_one(Object *obj, void *opaque)
{
    NvmeFaultWalk *walk = opaque;
    NvmeSubsystem *subsys;
    NvmeFault *f;

    if (!object_dynamic_cast(obj, TYPE_NVME_SUBSYS)) {
        return 0;
    }
    subsys = NVME_SUBSYS(obj);
    nvme_subsys_pause(subsys);
    QTAILQ_FOREACH(f, &subsys->faults, entry) {
        if (walk->tail) {
            QAPI_LIST_APPEND(walk->tail, nvme_fault_info(f));
        } else if (f->num == walk->num) {
            nvme_fault_end(f, NVME_FAULT_END_REASON_REMOVED);
            walk->found = true;
            break;
        }
    }
    nvme_subsys_resume(subsys);
    return walk->found;
}

void qmp_nvme_fault_remove(uint32_t fault, Error **errp)
{
    NvmeFaultWalk walk = { .num = fault };

    object_child_foreach_recursive(object_get_root(), nvme_fault_walk_one,
                                   &walk);
    if (!walk.found) {
        error_setg(errp, "no active NVMe fault %u (query-nvme-faults lists "
                   "them)", fault);
    }
}

NvmeFaultInfoList *qmp_query_nvme_faults(Error **errp)
{
    NvmeFaultInfoList *list = NULL;
    NvmeFaultWalk walk = { .tail = &list };

    object_child_foreach_recursive(object_get_root(), nvme_fault_walk_one,
                                   &walk);
    return list;
}

/* ---- HMP ----------------------------------------------------------------- */

/* "key=value,...": a number (0x for hexadecimal), or on/off, or a name */
static bool nvme_fault_opt_u64(const char *key, const char *val, uint64_t max,
                               uint64_t *out, Error **errp)
{
    if (qemu_strtou64(val, NULL, 0, out) < 0 || *out > max) {
        error_setg(errp, "'%s=%s': a number up to %" PRIu64 " is needed", key,
                   val, max);
        return false;
    }
    return true;
}

/* HMP: nvme_fault_inject <id> <kind> [key=value,...] */
void hmp_nvme_fault_inject(Monitor *mon, const QDict *qdict)
{
    const char *id = qdict_get_str(qdict, "id");
    const char *kind_name = qdict_get_str(qdict, "kind");
    const char *opts = qdict_get_try_str(qdict, "opts");
    g_auto(GStrv) items = g_strsplit(opts ? opts : "", ",", -1);
    uint64_t nsid = 0, status = 0, slba = 0, nlb = 0, latency = 0;
    uint64_t count = 0, duration = 0, jitter = 0;
    bool has_nsid = false, has_status = false, has_slba = false;
    bool has_nlb = false, has_latency = false, has_count = false;
    bool has_duration = false, has_dnr = false, dnr = false;
    bool has_jitter = false;
    bool has_warning = false;
    int warning = 0;
    Error *err = NULL;
    int kind = qapi_enum_parse(&NvmeFaultKind_lookup, kind_name, -1, NULL);
    g_autoptr(NvmeFaultInfo) info = NULL;

    if (kind < 0) {
        error_setg(&err, "unknown fault kind '%s': use status, media-read, "
                   "media-write, write-protect, latency, stall, cfs, "
                   "smart-warning or surprise-removal", kind_name);
    }
    for (char **it = items; !err && *it; it++) {
        g_auto(GStrv) kv = g_strsplit(*it, "=", 2);

        if (!**it) {
            continue;
        }
        if (!kv[1]) {
            error_setg(&err, "'%s': options are key=value", *it);
        } else if (!strcmp(kv[0], "nsid")) {
            has_nsid = nvme_fault_opt_u64(kv[0], kv[1], UINT32_MAX, &nsid,
                                          &err);
        } else if (!strcmp(kv[0], "status")) {
            has_status = nvme_fault_opt_u64(kv[0], kv[1], UINT16_MAX, &status,
                                            &err);
        } else if (!strcmp(kv[0], "dnr")) {
            has_dnr = qapi_bool_parse(kv[0], kv[1], &dnr, &err);
        } else if (!strcmp(kv[0], "slba")) {
            has_slba = nvme_fault_opt_u64(kv[0], kv[1], UINT64_MAX, &slba,
                                          &err);
        } else if (!strcmp(kv[0], "nlb")) {
            has_nlb = nvme_fault_opt_u64(kv[0], kv[1], UINT64_MAX, &nlb, &err);
        } else if (!strcmp(kv[0], "latency-ms")) {
            has_latency = nvme_fault_opt_u64(kv[0], kv[1], UINT32_MAX,
                                             &latency, &err);
        } else if (!strcmp(kv[0], "jitter-ms")) {
            has_jitter = nvme_fault_opt_u64(kv[0], kv[1], UINT32_MAX,
                                            &jitter, &err);
        } else if (!strcmp(kv[0], "count")) {
            has_count = nvme_fault_opt_u64(kv[0], kv[1], UINT32_MAX, &count,
                                           &err);
        } else if (!strcmp(kv[0], "duration-ms")) {
            has_duration = nvme_fault_opt_u64(kv[0], kv[1], UINT32_MAX,
                                              &duration, &err);
        } else if (!strcmp(kv[0], "warning")) {
            warning = qapi_enum_parse(&NvmeSmartWarning_lookup, kv[1], -1,
                                      NULL);
            has_warning = warning >= 0;
            if (!has_warning) {
                error_setg(&err, "unknown warning '%s': use spare, "
                           "temperature, reliability, read-only or "
                           "volatile-backup", kv[1]);
            }
        } else {
            error_setg(&err, "unknown option '%s' (nsid, status, dnr, slba, "
                       "nlb, latency-ms, jitter-ms, warning, count, "
                       "duration-ms)", kv[0]);
        }
    }
    if (!err) {
        info = qmp_nvme_fault_inject(id, kind, has_nsid, nsid, has_status,
                                     status, has_dnr, dnr, has_slba, slba,
                                     has_nlb, nlb, has_latency, latency,
                                     has_jitter, jitter, has_warning, warning,
                                     has_count, count,
                                     has_duration, duration, &err);
    }
    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "fault %u injected: %s on %s\n", info->fault,
                   NvmeFaultKind_str(info->kind), info->id);
}

void hmp_nvme_fault_remove(Monitor *mon, const QDict *qdict)
{
    int64_t fault = qdict_get_int(qdict, "fault");
    Error *err = NULL;

    if (fault < 0 || fault > UINT32_MAX) {
        error_setg(&err, "no active NVMe fault %" PRId64, fault);
    } else {
        qmp_nvme_fault_remove(fault, &err);
    }
    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "fault %" PRId64 " removed\n", fault);
}

void hmp_info_nvme_faults(Monitor *mon, const QDict *qdict)
{
    g_autoptr(NvmeFaultInfoList) list = qmp_query_nvme_faults(NULL);

    if (!list) {
        monitor_printf(mon, "no NVMe fault is active\n");
        return;
    }
    for (NvmeFaultInfoList *l = list; l; l = l->next) {
        NvmeFaultInfo *f = l->value;

        monitor_printf(mon, "fault %u: %s on %s", f->fault,
                       NvmeFaultKind_str(f->kind), f->id);
        if (f->has_nsid) {
            monitor_printf(mon, " nsid %u", f->nsid);
        }
        monitor_printf(mon, ", %" PRIu64 " hits", f->hits);
        if (f->has_remaining) {
            monitor_printf(mon, ", %u to go", f->remaining);
        }
        if (f->has_remaining_ms) {
            monitor_printf(mon, ", %" PRIu64 " ms left", f->remaining_ms);
        }
        monitor_printf(mon, "\n");
    }
}
