/*
 * NVMe reservations (Base 2.0, 8.19; NVM 3.3.4-3.3.7).
 *
 * A namespace's reservation (NvmeResv, in the namespace) is one for every
 * controller of the subsystem. Hosts are told apart by the Host Identifier
 * feature (81h) of the controller a command comes through: controllers
 * with the same identifier act for the same host, so a multipath host
 * registers once for all its paths. Registrations and the reservation live
 * in QEMU's memory, except that a namespace of a capacity pool offers
 * Persist Through Power Loss: with PTPL set they are kept on the pool
 * drive (nvme-pool.c) and outlive QEMU.
 * Notices (registration preempted, reservation released or preempted) go
 * to each controller of the host concerned that has the namespace
 * attached, as an entry of its Reservation Notification log (80h) and an
 * asynchronous event, unless the namespace's notification mask (82h)
 * suppresses that type.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"
#include "nvme-resv.h"
#include "nvme-pool.h"
#include "trace.h"

/* ---- registrants and holders --------------------------------------------- */

static bool nvme_host_eq(const NvmeHostId *a, const NvmeHostId *b)
{
    return memcmp(a->id, b->id, sizeof(a->id)) == 0;
}

static const NvmeHostId *nvme_ctrl_host(NvmeCtrl *ctrl)
{
    return &ctrl->features.hostid;
}

static NvmeResvReg *nvme_resv_find(NvmeResv *resv, const NvmeHostId *host)
{
    for (unsigned i = 0; i < resv->nr_regs; i++) {
        if (nvme_host_eq(&resv->regs[i].host, host)) {
            return &resv->regs[i];
        }
    }
    return NULL;
}

/* types 5 and 6: every registrant is a holder (base 8.19.1) */
static bool nvme_resv_all_regs(uint8_t rtype)
{
    return rtype == NVME_RESV_WRITE_EXCL_ALL ||
           rtype == NVME_RESV_EXCL_ACCESS_ALL;
}

static bool nvme_resv_holds(NvmeResv *resv, const NvmeHostId *host)
{
    if (resv->rtype == NVME_RESV_NONE) {
        return false;
    }
    if (nvme_resv_all_regs(resv->rtype)) {
        return nvme_resv_find(resv, host) != NULL;
    }
    return nvme_host_eq(&resv->holder, host);
}

static void nvme_resv_take(NvmeResv *resv, const NvmeHostId *host,
                           uint8_t rtype)
{
    resv->rtype = rtype;
    resv->holder = *host;
}

/* ---- notices (base 5.16.1.24) -------------------------------------------- */

static void nvme_resv_notice_add(NvmeCtrl *ctrl, uint32_t nsid, uint8_t type)
{
    /* the count is never 0: 0 means an empty log */
    uint64_t count = ++ctrl->resv_notice_count ?: ++ctrl->resv_notice_count;
    bool lost = ctrl->nr_resv_notices == NVME_RESV_NOTICES_MAX;

    trace_pci_nvme_resv_notice(ctrl->cntlid, nsid, type, count, lost);
    if (!lost) {
        unsigned slot = (ctrl->resv_notice_first + ctrl->nr_resv_notices) %
                        NVME_RESV_NOTICES_MAX;

        /* a lost notice shows as a gap in the counts the host reads */
        ctrl->resv_notices[slot] = (NvmeResvNotice) {
            .count = count, .nsid = nsid, .type = type,
        };
        ctrl->nr_resv_notices++;
    }
    nvme_enqueue_event(ctrl, NVME_AER_TYPE_IO_CMD_SET,
                       NVME_AER_INFO_IO_RESV_LOG, NVME_LOG_RESV_NOTICE);
}

/* Tell every controller of @host that has @ns attached */
static void nvme_resv_notify(NvmeNamespace *ns, const NvmeHostId *host,
                             uint8_t type)
{
    NvmeSubsystem *subsys = ns->registered;

    if (!subsys || (ns->resv.notice_mask & BIT(type))) {
        return;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        NvmeCtrl *ctrl = subsys->ctrls[slot];

        if (ctrl && nvme_host_eq(nvme_ctrl_host(ctrl), host) &&
            nvme_ctrl_ns(ctrl, ns->nsid) == ns) {
            nvme_resv_notice_add(ctrl, ns->nsid, type);
        }
    }
}

/* Tell every registrant but @except */
static void nvme_resv_notify_others(NvmeNamespace *ns,
                                    const NvmeHostId *except, uint8_t type)
{
    for (unsigned i = 0; i < ns->resv.nr_regs; i++) {
        if (!nvme_host_eq(&ns->resv.regs[i].host, except)) {
            nvme_resv_notify(ns, &ns->resv.regs[i].host, type);
        }
    }
}

uint16_t nvme_log_resv_notice(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    NvmeResvNoticeLog *log = buf;
    NvmeResvNotice *notice;

    if (!ctrl->nr_resv_notices) {
        return NVME_OK;         /* count 0, type 0: empty */
    }
    notice = &ctrl->resv_notices[ctrl->resv_notice_first];
    log->count = cpu_to_le64(notice->count);
    log->type = notice->type;
    log->nsid = cpu_to_le32(notice->nsid);
    ctrl->resv_notice_first = (ctrl->resv_notice_first + 1) %
                              NVME_RESV_NOTICES_MAX;
    ctrl->nr_resv_notices--;
    log->nalp = MIN(ctrl->nr_resv_notices, UINT8_MAX);
    return NVME_OK;
}

/* ---- unregistering ------------------------------------------------------- */

/*
 * Remove @host's registration. A holder that goes releases the reservation,
 * except that an all-registrants reservation lasts while registrants
 * remain; the registrants-only types tell the others it was released.
 */
static void nvme_resv_unregister(NvmeNamespace *ns, const NvmeHostId *host)
{
    NvmeResv *resv = &ns->resv;
    NvmeResvReg *reg = nvme_resv_find(resv, host);
    bool held = nvme_resv_holds(resv, host);
    NvmeHostId gone = *host;            /* @host may point into the array */
    uint8_t old = resv->rtype;

    assert(reg);
    *reg = resv->regs[--resv->nr_regs];
    if (!held || (nvme_resv_all_regs(old) && resv->nr_regs)) {
        return;
    }
    resv->rtype = NVME_RESV_NONE;
    if (old == NVME_RESV_WRITE_EXCL_REGS || old == NVME_RESV_EXCL_ACCESS_REGS) {
        nvme_resv_notify_others(ns, &gone, NVME_RESV_NOTICE_RELEASED);
    }
}

/*
 * Preempt: unregister every registrant whose key is @key (@self too, but
 * @self gets no notice), optionally sparing @self. False if none had it.
 */
static bool nvme_resv_preempt_key(NvmeNamespace *ns, uint64_t key,
                                  const NvmeHostId *self, bool spare_self)
{
    NvmeResv *resv = &ns->resv;
    bool found = false;
    unsigned i = 0;

    while (i < resv->nr_regs) {
        NvmeHostId host = resv->regs[i].host;
        bool is_self = nvme_host_eq(&host, self);

        if (resv->regs[i].key != key || (is_self && spare_self)) {
            i++;
            continue;
        }
        found = true;
        nvme_resv_unregister(ns, &host);    /* moves the last one to i */
        if (!is_self) {
            nvme_resv_notify(ns, &host, NVME_RESV_NOTICE_REG_PREEMPTED);
        }
    }
    return found;
}

/* ---- the commands -------------------------------------------------------- */

static uint16_t nvme_resv_conflict(NvmeRequest *req)
{
    trace_pci_nvme_resv_conflict(nvme_cid(req), req->ns->nsid,
                                 req->cmd.opcode, req->ns->resv.rtype);
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT, true);
}

/* Register's, Acquire's or Release's data: the keys */
static uint16_t nvme_resv_keys(NvmeCtrl *ctrl, NvmeRequest *req,
                               NvmeResvKeys *keys, size_t len)
{
    uint16_t status;

    memset(keys, 0, sizeof(*keys));
    status = nvme_copy_from_host(ctrl, req, keys, len);
    keys->crkey = le64_to_cpu(keys->crkey);
    keys->nkey = le64_to_cpu(keys->nkey);
    return status;
}

/*
 * The host is a registrant and, unless IEKEY is set, CRKEY is its key:
 * what Unregister, Replace, Acquire and Release all ask first.
 */
static NvmeResvReg *nvme_resv_caller(NvmeCtrl *ctrl, NvmeRequest *req,
                                     uint64_t crkey)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    NvmeResvReg *reg = nvme_resv_find(&req->ns->resv, nvme_ctrl_host(ctrl));

    /* only Register takes IEKEY (RESCAP bit 7: as of revision 1.3) */
    if (!reg || ((req->cmd.opcode != NVME_IO_RESV_REGISTER ||
                  !FIELD_EX32(dw10, NVME_RESV_DW10, IEKEY)) &&
                 reg->key != crkey)) {
        return NULL;
    }
    return reg;
}

/* Persist Through Power Loss needs a place to keep them: the pool */
static bool nvme_resv_ptpl_capable(NvmeNamespace *ns)
{
    return ns->pool_blk != NULL;
}

/* nvm 3.3.6 Reservation Register */
static uint16_t nvme_resv_register(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t action = FIELD_EX32(dw10, NVME_RESV_DW10, ACTION);
    uint8_t cptpl = FIELD_EX32(dw10, NVME_RESV_DW10, CPTPL);
    NvmeNamespace *ns = req->ns;
    NvmeResv *resv = &ns->resv;
    const NvmeHostId *host = nvme_ctrl_host(ctrl);
    NvmeResvReg *reg = NULL;
    NvmeResvKeys keys;
    uint16_t status;

    trace_pci_nvme_resv_register(nvme_cid(req), ns->nsid, action, cptpl);
    if (action > NVME_RESV_REPLACE) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    /*
     * 01b is reserved. 11b where RESCAP offers no PTPL leaves PTPL 0 (Report's
     * PTPLS says so): Linux's block layer asks for PTPL in every Register.
     */
    if (cptpl == 1) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 30));
    }
    if (cptpl == NVME_RESV_CPTPL_ON && !nvme_resv_ptpl_capable(ns)) {
        cptpl = 0;
    }
    status = nvme_resv_keys(ctrl, req, &keys, sizeof(keys));
    if (status) {
        return status;
    }
    switch (action) {
    case NVME_RESV_REGISTER:
        reg = nvme_resv_find(resv, host);
        if (reg) {
            /* registering again with the same key changes nothing */
            if (reg->key != keys.nkey) {
                return nvme_resv_conflict(req);
            }
            break;
        }
        if (resv->nr_regs == NVME_RESV_MAX_REGS) {
            return nvme_status(NVME_SCT_GENERIC, NVME_SC_INTERNAL, true);
        }
        resv->regs = g_renew(NvmeResvReg, resv->regs, resv->nr_regs + 1);
        resv->regs[resv->nr_regs++] = (NvmeResvReg) {
            .host = *host, .key = keys.nkey,
        };
        break;
    case NVME_RESV_UNREGISTER:
        if (!nvme_resv_caller(ctrl, req, keys.crkey)) {
            return nvme_resv_conflict(req);
        }
        nvme_resv_unregister(ns, host);
        break;
    case NVME_RESV_REPLACE:
        reg = nvme_resv_caller(ctrl, req, keys.crkey);
        if (!reg) {
            return nvme_resv_conflict(req);
        }
        reg->key = keys.nkey;
        break;
    }
    resv->gen++;                /* every Register that succeeds counts */
    if (cptpl) {
        resv->ptpl = cptpl == NVME_RESV_CPTPL_ON;
    }
    return NVME_OK;
}

/*
 * Preempt and Preempt and Abort (base 8.19.5, Figure 488's cases). In-flight
 * commands of the preempted hosts are not aborted: they were admitted before
 * the preemption and complete; the next ones meet the new reservation.
 */
static uint16_t nvme_resv_preempt(NvmeRequest *req, const NvmeHostId *host,
                                  uint8_t rtype, uint64_t prkey)
{
    NvmeNamespace *ns = req->ns;
    NvmeResv *resv = &ns->resv;
    uint8_t old = resv->rtype;
    NvmeResvReg *holder;

    if (old == NVME_RESV_NONE) {
        /* no reservation: unregister the hosts holding PRKEY */
        return nvme_resv_preempt_key(ns, prkey, host, false)
               ? NVME_OK : nvme_resv_conflict(req);
    }
    if (nvme_resv_all_regs(old)) {
        if (prkey) {
            return nvme_resv_preempt_key(ns, prkey, host, false)
                   ? NVME_OK : nvme_resv_conflict(req);
        }
        /* PRKEY 0: everyone else goes, the caller holds the new type */
        nvme_resv_take(resv, host, rtype);
        for (unsigned i = 0; i < resv->nr_regs;) {
            NvmeHostId other = resv->regs[i].host;

            if (nvme_host_eq(&other, host)) {
                i++;
                continue;
            }
            nvme_resv_unregister(ns, &other);
            nvme_resv_notify(ns, &other, NVME_RESV_NOTICE_REG_PREEMPTED);
        }
        return NVME_OK;
    }
    holder = nvme_resv_find(resv, &resv->holder);
    if (holder && holder->key == prkey) {
        /*
         * Take the reservation over (the holder may do so with its own key,
         * to change the type), then unregister the others with that key.
         */
        nvme_resv_take(resv, host, rtype);
        nvme_resv_preempt_key(ns, prkey, host, true);
        if (old != rtype) {
            nvme_resv_notify_others(ns, host, NVME_RESV_NOTICE_RELEASED);
        }
        return NVME_OK;
    }
    if (!prkey) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    return nvme_resv_preempt_key(ns, prkey, host, false)
           ? NVME_OK : nvme_resv_conflict(req);
}

/* nvm 3.3.4 Reservation Acquire */
static uint16_t nvme_resv_acquire(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t action = FIELD_EX32(dw10, NVME_RESV_DW10, ACTION);
    uint8_t rtype = FIELD_EX32(dw10, NVME_RESV_DW10, RTYPE);
    NvmeResv *resv = &req->ns->resv;
    const NvmeHostId *host = nvme_ctrl_host(ctrl);
    NvmeResvKeys keys;
    uint16_t status;

    trace_pci_nvme_resv_acquire(nvme_cid(req), req->ns->nsid, action, rtype);
    if (action > NVME_RESV_PREEMPT_ABORT) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    if (rtype == NVME_RESV_NONE || rtype > NVME_RESV_EXCL_ACCESS_ALL) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 8));
    }
    status = nvme_resv_keys(ctrl, req, &keys, sizeof(keys));
    if (status) {
        return status;
    }
    if (!nvme_resv_caller(ctrl, req, keys.crkey)) {
        return nvme_resv_conflict(req);
    }
    if (action == NVME_RESV_ACQUIRE) {
        if (resv->rtype == NVME_RESV_NONE) {
            nvme_resv_take(resv, host, rtype);
            return NVME_OK;
        }
        /* acquiring what one holds already is a no-op; anything else not */
        return nvme_resv_holds(resv, host) && resv->rtype == rtype
               ? NVME_OK : nvme_resv_conflict(req);
    }
    status = nvme_resv_preempt(req, host, rtype, keys.nkey);
    if (status == NVME_OK) {
        resv->gen++;
    }
    return status;
}

/* nvm 3.3.5 Reservation Release */
static uint16_t nvme_resv_release(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t action = FIELD_EX32(dw10, NVME_RESV_DW10, ACTION);
    uint8_t rtype = FIELD_EX32(dw10, NVME_RESV_DW10, RTYPE);
    NvmeNamespace *ns = req->ns;
    NvmeResv *resv = &ns->resv;
    const NvmeHostId *host = nvme_ctrl_host(ctrl);
    NvmeResvKeys keys;
    uint16_t status;
    uint8_t old;

    trace_pci_nvme_resv_release(nvme_cid(req), ns->nsid, action, rtype);
    if (action > NVME_RESV_CLEAR) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    status = nvme_resv_keys(ctrl, req, &keys, sizeof(keys.crkey));
    if (status) {
        return status;
    }
    if (!nvme_resv_caller(ctrl, req, keys.crkey)) {
        return nvme_resv_conflict(req);
    }
    if (action == NVME_RESV_CLEAR) {
        /* every registration goes; the others hear it was preempted */
        resv->rtype = NVME_RESV_NONE;
        for (unsigned i = 0; i < resv->nr_regs; i++) {
            if (!nvme_host_eq(&resv->regs[i].host, host)) {
                nvme_resv_notify(ns, &resv->regs[i].host,
                                 NVME_RESV_NOTICE_PREEMPTED);
            }
        }
        g_clear_pointer(&resv->regs, g_free);
        resv->nr_regs = 0;
        resv->gen++;
        return NVME_OK;
    }
    if (!nvme_resv_holds(resv, host)) {
        return NVME_OK;         /* nothing of ours to release */
    }
    if (resv->rtype != rtype) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 8));
    }
    old = resv->rtype;
    resv->rtype = NVME_RESV_NONE;
    if (old != NVME_RESV_WRITE_EXCL && old != NVME_RESV_EXCL_ACCESS) {
        nvme_resv_notify_others(ns, host, NVME_RESV_NOTICE_RELEASED);
    }
    return NVME_OK;
}

/* The @n-th Registered Controller data structure at @out */
static void nvme_resv_put_entry(uint8_t *out, unsigned n, bool eds,
                                uint16_t cntlid, const NvmeResvReg *reg,
                                bool holds)
{
    if (eds) {
        NvmeResvCtrlExt *e = (NvmeResvCtrlExt *)out + n;

        e->cntlid = cpu_to_le16(cntlid);
        e->rcsts = holds;
        e->rkey = cpu_to_le64(reg->key);
        memcpy(e->hostid, reg->host.id, sizeof(e->hostid));
    } else {
        NvmeResvCtrl *e = (NvmeResvCtrl *)out + n;

        e->cntlid = cpu_to_le16(cntlid);
        e->rcsts = holds;
        e->rkey = cpu_to_le64(reg->key);
        memcpy(e->hostid, reg->host.id, sizeof(e->hostid));
    }
}

/*
 * A pool keeps the reservation of a namespace with PTPL set: written back
 * after each command that succeeded while PTPL was, or is now, set
 */
static uint16_t nvme_resv_persist(NvmeRequest *req, bool was_ptpl,
                                  uint16_t status)
{
    if (status == NVME_OK && (was_ptpl || req->ns->resv.ptpl)) {
        nvme_pool_resv_changed(req->ns);
    }
    return status;
}

uint16_t nvme_io_resv_register(NvmeCtrl *ctrl, NvmeRequest *req)
{
    bool ptpl = req->ns->resv.ptpl;

    return nvme_resv_persist(req, ptpl, nvme_resv_register(ctrl, req));
}

uint16_t nvme_io_resv_acquire(NvmeCtrl *ctrl, NvmeRequest *req)
{
    bool ptpl = req->ns->resv.ptpl;

    return nvme_resv_persist(req, ptpl, nvme_resv_acquire(ctrl, req));
}

uint16_t nvme_io_resv_release(NvmeCtrl *ctrl, NvmeRequest *req)
{
    bool ptpl = req->ns->resv.ptpl;

    return nvme_resv_persist(req, ptpl, nvme_resv_release(ctrl, req));
}

/*
 * One entry per controller of the subsystem that acts for a registrant; a
 * registrant with no such controller (unplugged) gets one entry with CNTLID
 * FFFFh. Returns the number of entries written at @out.
 */
static unsigned nvme_resv_report_entries(NvmeNamespace *ns, uint8_t *out,
                                         bool eds, unsigned room)
{
    NvmeResv *resv = &ns->resv;
    NvmeSubsystem *subsys = ns->registered;
    unsigned n = 0;

    for (unsigned i = 0; i < resv->nr_regs && n < room; i++) {
        const NvmeResvReg *reg = &resv->regs[i];
        bool holds = nvme_resv_holds(resv, &reg->host);
        unsigned first = n;

        for (unsigned slot = 0; subsys && slot < NVME_SUBSYS_MAX_CTRLS;
             slot++) {
            NvmeCtrl *ctrl = subsys->ctrls[slot];

            if (ctrl && nvme_host_eq(nvme_ctrl_host(ctrl), &reg->host) &&
                n < room) {
                nvme_resv_put_entry(out, n++, eds, ctrl->cntlid, reg, holds);
            }
        }
        if (n == first) {
            nvme_resv_put_entry(out, n++, eds, NVME_RESV_CNTLID_UNKNOWN, reg,
                                holds);
        }
    }
    return n;
}

/* nvm 3.3.7 Reservation Report: as much of the status as NUMD asks for */
uint16_t nvme_io_resv_report(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint64_t len = ((uint64_t)le32_to_cpu(req->cmd.cdw10) + 1) * 4;
    bool eds = FIELD_EX32(le32_to_cpu(req->cmd.cdw11),
                          NVME_RESV_REPORT_DW11, EDS);
    NvmeNamespace *ns = req->ns;
    size_t hdr = eds ? NVME_RESV_STATUS_EXT_SIZE : sizeof(NvmeResvStatus);
    size_t entry = eds ? sizeof(NvmeResvCtrlExt) : sizeof(NvmeResvCtrl);
    /* each controller acts for one host: that bounds the entries */
    unsigned room = ns->resv.nr_regs + NVME_SUBSYS_MAX_CTRLS;
    size_t max = hdr + entry * room;
    g_autofree uint8_t *buf = g_malloc0(max);
    NvmeResvStatus *st = (NvmeResvStatus *)buf;
    unsigned n;

    /* a 128-bit Host Identifier does not fit the 64-bit entries */
    if (!eds && ctrl->features.hostid_ext) {
        return nvme_adm_error(req, NVME_SCT_GENERIC,
                              NVME_SC_HOST_ID_INCONSISTENT,
                              NVME_ERR_LOC(cdw11, 0));
    }
    n = nvme_resv_report_entries(ns, buf + hdr, eds, room);
    st->gen = cpu_to_le32(ns->resv.gen);
    st->rtype = ns->resv.rtype;
    st->ptpls = ns->resv.ptpl;
    st->regctl = cpu_to_le16(n);
    return nvme_copy_to_host(ctrl, req, buf, MIN(len, hdr + entry * n));
}

/* ---- what a reservation refuses (base 8.19.1, Figure 482) ---------------- */

uint16_t nvme_resv_check_io(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeResv *resv = &req->ns->resv;
    const NvmeHostId *host = nvme_ctrl_host(ctrl);
    bool writes = req->desc->flags & NVME_CMDF_RESV_WRITE;
    bool reads = req->desc->flags & NVME_CMDF_RESV_READ;
    bool barred;

    if (nvme_resv_holds(resv, host)) {
        return NVME_OK;
    }
    switch (resv->rtype) {
    case NVME_RESV_WRITE_EXCL:
        barred = writes;
        break;
    case NVME_RESV_EXCL_ACCESS:
        barred = writes || reads;
        break;
    case NVME_RESV_WRITE_EXCL_REGS:
    case NVME_RESV_WRITE_EXCL_ALL:
        barred = writes && !nvme_resv_find(resv, host);
        break;
    default:                    /* the exclusive access registrant types */
        barred = (writes || reads) && !nvme_resv_find(resv, host);
        break;
    }
    return barred ? nvme_resv_conflict(req) : NVME_OK;
}

/* ---- features ------------------------------------------------------------ */

/* Has @host a registration with any namespace of @subsys? */
static bool nvme_resv_host_registered(NvmeSubsystem *subsys,
                                      const NvmeHostId *host)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_subsys_ns(subsys, nsid);

        if (ns && nvme_resv_find(&ns->resv, host)) {
            return true;
        }
    }
    return false;
}

/*
 * base 5.27.1.25: 64 bits, or 128 with EXHID. A host that has registrations
 * keeps its identity (Command Sequence Error).
 */
uint16_t nvme_set_host_id(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11)
{
    bool ext = FIELD_EX32(dw11, NVME_FEAT_HOSTID_DW11, EXHID);
    NvmeHostId id = { 0 };
    uint16_t status = nvme_copy_from_host(ctrl, req, id.id, ext ? 16 : 8);

    if (status) {
        return status;
    }
    if (!nvme_host_eq(&id, nvme_ctrl_host(ctrl)) &&
        nvme_resv_host_registered(ctrl->subsys, nvme_ctrl_host(ctrl))) {
        return nvme_adm_error(req, NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE,
                              NVME_ERR_LOC(cdw10, 0));
    }
    ctrl->features.hostid = id;
    ctrl->features.hostid_ext = ext;
    return NVME_OK;
}

uint16_t nvme_get_host_id(NvmeCtrl *ctrl, NvmeRequest *req,
                          const NvmeFeatures *feat, uint32_t dw11)
{
    bool ext = FIELD_EX32(dw11, NVME_FEAT_HOSTID_DW11, EXHID);

    return nvme_copy_to_host(ctrl, req, feat->hostid.id, ext ? 16 : 8);
}

/*
 * The namespace features 82h and 83h: one namespace, or with FFFFFFFFh
 * (Set Features only) every namespace attached to this controller.
 */
static uint16_t nvme_resv_feat_nsid(NvmeRequest *req, bool set)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    if (nsid == 0 || (!set && nsid == NVME_NSID_BROADCAST)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    return NVME_OK;
}

uint16_t nvme_set_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint16_t status = nvme_resv_feat_nsid(req, true);

    if (status) {
        return status;
    }
    if (dw11 & ~NVME_RESV_MASK_ALL) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
    }
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNamespace *ns = nvme_ctrl_ns(ctrl, i);

        if (ns && (nsid == NVME_NSID_BROADCAST || nsid == i)) {
            ns->resv.notice_mask = dw11;
        }
    }
    return NVME_OK;
}

uint16_t nvme_get_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req,
                            const NvmeFeatures *feat, uint32_t dw11)
{
    uint16_t status = nvme_resv_feat_nsid(req, false);

    if (status) {
        return status;
    }
    req->dw0 = nvme_ctrl_ns(ctrl, le32_to_cpu(req->cmd.nsid))->resv.notice_mask;
    return NVME_OK;
}

/*
 * base 5.27.1.27: PTPL 1 only where RESCAP bit 0 says so (pool namespaces);
 * with FFFFFFFFh, for every namespace attached, checked before any changes
 */
uint16_t nvme_set_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               uint32_t dw11)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    bool ptpl = FIELD_EX32(dw11, NVME_FEAT_RESV_PERSIST_DW11, PTPL);
    uint16_t status = nvme_resv_feat_nsid(req, true);

    if (status) {
        return status;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            NvmeNamespace *ns = nvme_ctrl_ns(ctrl, i);

            if (!ns || (nsid != NVME_NSID_BROADCAST && nsid != i)) {
                continue;
            }
            if (!pass && ptpl && !nvme_resv_ptpl_capable(ns)) {
                return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
            }
            if (pass && ns->resv.ptpl != ptpl) {
                ns->resv.ptpl = ptpl;
                nvme_pool_resv_changed(ns);
            }
        }
    }
    return NVME_OK;
}

uint16_t nvme_get_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               const NvmeFeatures *feat, uint32_t dw11)
{
    uint16_t status = nvme_resv_feat_nsid(req, false);

    if (status == NVME_OK) {
        req->dw0 = nvme_ctrl_ns(ctrl, le32_to_cpu(req->cmd.nsid))->resv.ptpl;
    }
    return status;
}
