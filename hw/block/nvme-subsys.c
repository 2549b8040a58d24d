/*
 * NVMe subsystem (nvme-subsys): the NQN, controller ids (CNTLID unique in
 * the subsystem), and the registry of namespaces, shared (subsys=) or
 * private to one controller (bus=).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/qdev-core.h"
#include "nvme.h"
#include "nvme-pool.h"
#include "nvme-fault.h"
#include "trace.h"

static bool nvme_subsys_set_nqn(NvmeSubsystem *subsys, const char *suffix,
                                Error **errp)
{
    if (strlen(NVME_NQN_PREFIX) + strlen(suffix) >= sizeof(subsys->subnqn)) {
        error_setg(errp, "nvme-subsys: 'nqn' is too long: the NQN (\"%s\" "
                   "plus it) must be under 256 bytes", NVME_NQN_PREFIX);
        return false;
    }
    snprintf(subsys->subnqn, sizeof(subsys->subnqn), NVME_NQN_PREFIX "%s",
             suffix);
    return true;
}

NvmeSubsystem *nvme_subsys_new_implicit(const char *serial, Error **errp)
{
    NvmeSubsystem *subsys = NVME_SUBSYS(qdev_new(TYPE_NVME_SUBSYS));

    subsys->implicit = true;
    subsys->nqn_suffix = g_strdup(serial);
    if (!qdev_realize_and_unref(DEVICE(subsys), NULL, errp)) {
        return NULL;
    }
    return subsys;
}

bool nvme_subsys_add_ctrl(NvmeSubsystem *subsys, NvmeCtrl *ctrl, Error **errp)
{
    unsigned slot;

    for (slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (!subsys->ctrls[slot]) {
            break;
        }
    }
    if (slot == NVME_SUBSYS_MAX_CTRLS) {
        error_setg(errp, "nvme: subsystem '%s' already has %d controllers, "
                   "its maximum", subsys->subnqn, NVME_SUBSYS_MAX_CTRLS);
        return false;
    }
    subsys->ctrls[slot] = ctrl;
    subsys->had_ctrl = true;
    ctrl->cntlid = slot + 1;
    nvme_ana_ctrl_joined(subsys, slot);
    /*
     * Shared namespaces that exist already: attach unless detached; pool
     * namespaces as their table says.
     */
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];
        if (ns && ((!ns->owner && !ns->detached) ||
                   nvme_pool_attached(ns, ctrl->cntlid))) {
            nvme_ctrl_attach_ns(ctrl, ns);
        }
    }
    trace_pci_nvme_subsys_add_ctrl(subsys->subnqn, ctrl->cntlid);
    return true;
}

void nvme_subsys_remove_ctrl(NvmeSubsystem *subsys, NvmeCtrl *ctrl)
{
    if (ctrl->cntlid && subsys->ctrls[ctrl->cntlid - 1] == ctrl) {
        nvme_ana_ctrl_left(subsys, ctrl->cntlid - 1);
        subsys->ctrls[ctrl->cntlid - 1] = NULL;
    }
}

NvmeCtrl *nvme_subsys_ctrl(NvmeSubsystem *subsys, uint16_t cntlid)
{
    if (cntlid == 0 || cntlid > NVME_SUBSYS_MAX_CTRLS) {
        return NULL;
    }
    return subsys->ctrls[cntlid - 1];
}

uint32_t nvme_subsys_free_nsid(NvmeSubsystem *subsys)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (!subsys->namespaces[nsid]) {
            return nsid;
        }
    }
    return 0;
}

/*
 * Attach or detach, and tell a running controller's host (Changed Namespace
 * List and notice, base 5.16.1.5; the ANA log's change counts); one that is
 * not enabled re-identifies everything when it is.
 */
static void nvme_subsys_set_attached(NvmeCtrl *ctrl, NvmeNamespace *ns,
                                     bool attach)
{
    if ((nvme_ctrl_ns(ctrl, ns->nsid) == ns) == attach) {
        return;
    }
    if (attach) {
        nvme_ctrl_attach_ns(ctrl, ns);
    } else {
        nvme_ctrl_detach_ns(ctrl, ns);
    }
    trace_pci_nvme_subsys_ns_attachment(ns->nsid, ctrl->cntlid, attach);
    nvme_pool_attachment_changed(ns, ctrl->cntlid, attach);
    if (FIELD_EX32(ctrl->csts, NVME_CSTS, RDY)) {
        nvme_ana_ns_attachment_changed(ctrl, ns);
        nvme_ns_changed(ctrl, ns->nsid);
    }
}

void nvme_subsys_ns_changed(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        NvmeCtrl *ctrl = subsys->ctrls[slot];

        if (ctrl && nvme_ctrl_ns(ctrl, ns->nsid) == ns &&
            FIELD_EX32(ctrl->csts, NVME_CSTS, RDY)) {
            nvme_ns_changed(ctrl, ns->nsid);
        }
    }
}

bool nvme_subsys_add_ns(NvmeSubsystem *subsys, NvmeNamespace *ns,
                        Error **errp)
{
    NvmeNamespace *other = nvme_subsys_ns(subsys, ns->nsid);

    if (other) {
        error_setg(errp, "nvme-ns: 'nsid' %u is already used by the %s "
                   "namespace on drive '%s' in subsystem '%s' (NSIDs are "
                   "unique in a subsystem): choose another nsid", ns->nsid,
                   other->owner ? "private" : "shared",
                   blk_name(nvme_ns_blk(other)), subsys->subnqn);
        return false;
    }
    subsys->namespaces[ns->nsid] = ns;
    if (ns->detached) {
        return true;
    }
    if (ns->owner) {
        nvme_subsys_set_attached(ns->owner, ns, true);
        return true;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_subsys_set_attached(subsys->ctrls[slot], ns, true);
        }
    }
    return true;
}

void nvme_subsys_remove_ns(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    if (nvme_subsys_ns(subsys, ns->nsid) != ns) {
        return;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_subsys_set_attached(subsys->ctrls[slot], ns, false);
        }
    }
    subsys->namespaces[ns->nsid] = NULL;
}

static void nvme_subsys_realize(DeviceState *dev, Error **errp)
{
    NvmeSubsystem *subsys = NVME_SUBSYS(dev);
    const char *suffix = subsys->nqn_suffix ? subsys->nqn_suffix : dev->id;

    if (!suffix) {
        error_setg(errp, "nvme-subsys: give it an 'id' (or an 'nqn'): the "
                   "NQN is \"%s<nqn or id>\"", NVME_NQN_PREFIX);
        return;
    }
    if (subsys->serial && (!*subsys->serial || strlen(subsys->serial) > 20)) {
        error_setg(errp, "nvme-subsys: 'serial' must be 1 to 20 characters");
        return;
    }
    if (!nvme_subsys_set_nqn(subsys, suffix, errp)) {
        return;
    }
    qbus_init(&subsys->bus, sizeof(NvmeBus), TYPE_NVME_BUS, dev, dev->id);
    QTAILQ_INIT(&subsys->faults);
    if (subsys->ana) {
        nvme_ana_init_subsys(subsys);
    }
    if (!nvme_pool_init(subsys, errp)) {
        nvme_ana_free_subsys(subsys);
    }
}

static void nvme_subsys_unrealize(DeviceState *dev)
{
    NvmeSubsystem *subsys = NVME_SUBSYS(dev);

    nvme_subsys_pause(subsys);
    nvme_fault_subsys_gone(subsys);
    nvme_pool_free(subsys);
    nvme_ana_free_subsys(subsys);
    nvme_subsys_resume(subsys);
}

static const Property nvme_subsys_props[] = {
    DEFINE_PROP_STRING("nqn", NvmeSubsystem, nqn_suffix),
    DEFINE_PROP_STRING("serial", NvmeSubsystem, serial),
    DEFINE_PROP_BOOL("ana", NvmeSubsystem, ana, false),
    DEFINE_PROP_DRIVE("pool", NvmeSubsystem, pool_blk),
};

/* ---- iothread=: where the subsystem's state lives ----------------------- */

AioContext *nvme_subsys_ctx(NvmeSubsystem *subsys)
{
    return subsys && subsys->ctx ? subsys->ctx : qemu_get_aio_context();
}

/* Is the caller the owner anyway: no iothread, or the iothread itself? */
static bool nvme_subsys_owned(NvmeSubsystem *subsys)
{
    return !subsys || !subsys->ctx ||
           qemu_get_current_aio_context() == subsys->ctx;
}

/*
 * Pausing is per iothread, not per subsystem: two subsystems may share
 * one, and a pause of the second while the first holds it parked (a vCPU's
 * MMIO write waiting for the park runs an MSI-X message aimed at the other
 * subsystem's registers) must find it parked already, not queue a second
 * park behind the first. Kept for the life of QEMU (iothreads are few).
 */
struct NvmeIothreadPark {
    unsigned    depth;                  /* pauses on, under the BQL */
    unsigned    park_gen, resumed_gen;  /* pauses begun, and ended */
    bool        parked;                 /* the iothread waits in unpark */
    QemuEvent   parked_ev;              /* ... it got there */
    QemuEvent   unpark;
    QLIST_HEAD(, NvmeCtrl) ctrls;       /* changed while parked only */
};

static GHashTable *nvme_iothread_parks;     /* AioContext -> park, BQL */

static NvmeIothreadPark *nvme_iothread_park(AioContext *ctx)
{
    NvmeIothreadPark *park;

    if (!nvme_iothread_parks) {
        nvme_iothread_parks = g_hash_table_new(NULL, NULL);
    }
    park = g_hash_table_lookup(nvme_iothread_parks, ctx);
    if (!park) {
        park = g_new0(NvmeIothreadPark, 1);
        qemu_event_init(&park->parked_ev, false);
        qemu_event_init(&park->unpark, false);
        g_hash_table_insert(nvme_iothread_parks, ctx, park);
    }
    return park;
}

/*
 * Runs in the iothread: hold it here, between two callbacks, while a pause
 * is on (park_gen ahead of resumed_gen). Each event is reset by its waiter
 * only, so no wake-up is lost; a park bottom half still here when the next
 * pause begins serves that one too, doorbells first as for the first.
 */
static void nvme_subsys_park_bh(void *opaque)
{
    NvmeIothreadPark *park = opaque;
    NvmeCtrl *ctrl;

    for (;;) {
        qemu_event_reset(&park->unpark);
        if (qatomic_load_acquire(&park->resumed_gen) ==
            qatomic_load_acquire(&park->park_gen)) {
            break;
        }
        /* doorbells written before the access that pauses us come first */
        QLIST_FOREACH(ctrl, &park->ctrls, park_link) {
            nvme_doorbell_deliver(ctrl);
        }
        qatomic_store_release(&park->parked, true);
        qemu_event_set(&park->parked_ev);
        qemu_event_wait(&park->unpark);
    }
}

void nvme_subsys_pause(NvmeSubsystem *subsys)
{
    NvmeIothreadPark *park;

    if (nvme_subsys_owned(subsys)) {
        return;
    }
    park = subsys->park;
    if (park->depth++ == 0) {
        /* parked clears before the new round shows, for any park BH */
        qatomic_set(&park->parked, false);
        qatomic_store_release(&park->park_gen, park->park_gen + 1);
        aio_bh_schedule_oneshot(subsys->ctx, nvme_subsys_park_bh, park);
    }
    /*
     * A plain wait, not a poll of the main loop: a callback run from a
     * poll here could itself wait for the iothread (a drain) and never
     * return. The iothread needs nothing from the main loop to get here.
     */
    for (;;) {
        qemu_event_reset(&park->parked_ev);
        if (qatomic_load_acquire(&park->parked)) {
            break;
        }
        qemu_event_wait(&park->parked_ev);
    }
}

void nvme_subsys_park_add(NvmeSubsystem *subsys, NvmeCtrl *ctrl)
{
    QLIST_INSERT_HEAD(&subsys->park->ctrls, ctrl, park_link);
}

void nvme_subsys_park_remove(NvmeCtrl *ctrl)
{
    QLIST_REMOVE(ctrl, park_link);
}

void nvme_subsys_resume(NvmeSubsystem *subsys)
{
    NvmeIothreadPark *park;

    if (nvme_subsys_owned(subsys)) {
        return;
    }
    park = subsys->park;
    assert(park->depth > 0);
    if (--park->depth == 0) {
        qatomic_set(&park->parked, false);
        qatomic_store_release(&park->resumed_gen, park->park_gen);
        qemu_event_set(&park->unpark);
    }
}

bool nvme_subsys_place_blk(NvmeSubsystem *subsys, BlockBackend *blk,
                           Error **errp)
{
    return !blk || blk_set_aio_context(blk, nvme_subsys_ctx(subsys), errp) == 0;
}

/*
 * Move the namespaces' drives to @ctx (NULL: the main loop). With @errp,
 * stop at the first that cannot move and return its NSID (0: all moved);
 * without, move every one that can (moving back never fails).
 */
static uint32_t nvme_subsys_move_drives(NvmeSubsystem *subsys,
                                        AioContext *ctx, Error **errp)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];

        if (ns && nvme_ns_blk(ns) &&
            blk_set_aio_context(nvme_ns_blk(ns), ctx ?: qemu_get_aio_context(),
                                errp) < 0 && errp) {
            return nsid;
        }
    }
    return 0;
}

bool nvme_subsys_set_ctx(NvmeSubsystem *subsys, AioContext *ctx,
                         Error **errp)
{
    uint32_t failed;

    if (subsys->ctx_fixed) {
        if (ctx != subsys->ctx) {
            error_setg(errp, "nvme: the controllers of subsystem '%s' run in "
                       "%s; every controller of a subsystem names the same "
                       "iothread, or none", subsys->subnqn,
                       subsys->ctx ? "an iothread" : "the main loop");
            return false;
        }
        return true;
    }
    if (ctx && subsys->nr_faults) {
        /* their timers run in the main loop, where the subsystem was */
        error_setg(errp, "nvme: subsystem '%s' has faults injected; remove "
                   "them (nvme-fault-remove) before an iothread= controller "
                   "joins", subsys->subnqn);
        return false;
    }
    if (ctx && subsys->pool_blk) {
        error_setg(errp, "nvme: subsystem '%s' has a pool (Namespace "
                   "Management), which an iothread= controller does not "
                   "support", subsys->subnqn);
        return false;
    }
    failed = nvme_subsys_move_drives(subsys, ctx, errp);
    if (failed) {
        nvme_subsys_move_drives(subsys, NULL, NULL);    /* those moved */
        return false;
    }
    subsys->ctx = ctx;
    subsys->park = ctx ? nvme_iothread_park(ctx) : NULL;
    subsys->ctx_fixed = true;
    return true;
}

void nvme_subsys_unfix_ctx(NvmeSubsystem *subsys)
{
    if (!subsys->ctx_fixed || subsys->had_ctrl) {
        return;
    }
    nvme_subsys_move_drives(subsys, NULL, NULL);
    subsys->ctx = NULL;
    subsys->park = NULL;
    subsys->ctx_fixed = false;
}

/* ---- NVM Subsystem Reset ------------------------------------------------ */

void nvme_subsys_reset(NvmeSubsystem *subsys, const char *why)
{
    trace_pci_nvme_subsys_reset(subsys->subnqn, why);
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_ctrl_subsystem_reset(subsys->ctrls[slot]);
        }
    }
}

NvmeSubsystem *nvme_subsys_resolve(const char *id, NvmeCtrl **ctrl,
                                   Error **errp)
{
    Object *obj = object_resolve_path_component(
        machine_get_container("peripheral"), id);
    NvmeSubsystem *subsys;

    *ctrl = NULL;
    if (!obj) {
        obj = object_resolve_path(id, NULL);
    }
    if (!obj) {
        error_setg(errp, "no device with id '%s': give the id of an nvme "
                   "controller or nvme-subsys", id);
        return NULL;
    }
    if (object_dynamic_cast(obj, TYPE_NVME)) {
        *ctrl = NVME(obj);
        subsys = (*ctrl)->subsys;
    } else if (object_dynamic_cast(obj, TYPE_NVME_SUBSYS)) {
        subsys = NVME_SUBSYS(obj);
    } else {
        error_setg(errp, "'%s' is not an NVMe controller or subsystem (its "
                   "type is %s)", id, object_get_typename(obj));
        return NULL;
    }
    return subsys;
}

static void nvme_subsys_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->desc = "NVM subsystem: controllers with subsys=<id> share its "
               "NQN and its namespaces (nvme-ns subsys=<id>)";
    dc->realize = nvme_subsys_realize;
    dc->unrealize = nvme_subsys_unrealize;
    /* a controller hot-plugged without subsys= creates its own at run time */
    dc->hotpluggable = true;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    device_class_set_props(dc, nvme_subsys_props);
    object_class_property_set_description(oc, "nqn",
        "Subsystem NQN suffix: the NQN is \"" NVME_NQN_PREFIX "<nqn>\" "
        "(default: the device id)");
    object_class_property_set_description(oc, "serial",
        "Serial Number (SN) every controller of the subsystem reports in "
        "Identify Controller, as base 2.0 defines it (default: each "
        "controller's own serial property)");
    object_class_property_set_description(oc, "ana",
        "Asymmetric Namespace Access: every controller reports ANA groups "
        "(nvme-ns ana.grpid=1-128) with a state per controller");
    object_class_property_set_description(oc, "pool",
        "Capacity pool: a drive hosts carve namespaces from (Namespace "
        "Management); its table keeps them across restarts");
}

static const TypeInfo nvme_subsys_types[] = {
    {
        .name = TYPE_NVME_SUBSYS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeSubsystem),
        .class_init = nvme_subsys_class_init,
    },
};

DEFINE_TYPES(nvme_subsys_types)

/* ---- admin commands that act on the subsystem ---------------------------- */

typedef struct QEMU_PACKED NvmeCtrlList {
    le16 count;
    le16 ids[NVME_CTRL_LIST_MAX];
} NvmeCtrlList;

QEMU_BUILD_BUG_ON(sizeof(NvmeCtrlList) != NVME_IDENTIFY_SIZE);

static bool nvme_subsys_attached(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    return nvme_ctrl_ns(ctrl, ns->nsid) == ns;
}

/* Is a private (NMIC bit 0 clear) namespace attached to any controller? */
static bool nvme_subsys_private_in_use(NvmeSubsystem *subsys,
                                       NvmeNamespace *ns)
{
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot] &&
            nvme_subsys_attached(subsys->ctrls[slot], ns)) {
            return true;
        }
    }
    return false;
}

/*
 * Allocated namespaces belong to the subsystem: every controller lists them
 * and may attach them, private ones included (base 5.17.2.12, 5.22).
 */

/* CNS 10h/1Ah: allocated NSIDs above NSID, ascending (base 5.17.2.12) */
uint16_t nvme_identify_allocated_ns_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t after = le32_to_cpu(req->cmd.nsid);
    uint32_t list[NVME_NSID_LIST_MAX] = { 0 };
    unsigned nr = 0;

    if (after >= NVME_NSID_BROADCAST - 1) {
        return nvme_invalid_nsid(req);
    }
    for (uint32_t nsid = after + 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        /* allocated = known to the subsystem, private ones included */
        if (nvme_subsys_ns(ctrl->subsys, nsid)) {
            list[nr++] = cpu_to_le32(nsid);
        }
    }
    return nvme_copy_to_host(ctrl, req, list, sizeof(list));
}

/* CNS 11h/1Bh: Identify Namespace of an allocated, maybe unattached one */
uint16_t nvme_identify_allocated_ns(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);
    NvmeIdNs id = { 0 };

    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    if (ns) {
        nvme_ns_identify(ns, &id);
    }
    return nvme_copy_to_host(ctrl, req, &id, sizeof(id));
}

/*
 * CNS 12h: controllers attached to NSID; CNS 13h: every controller of the
 * subsystem. Both list CNTLIDs from CDW10.CNTID up (base 5.17.2.14/15).
 */
static uint16_t nvme_identify_ctrl_list(NvmeCtrl *ctrl, NvmeRequest *req,
                                        NvmeNamespace *ns)
{
    uint16_t from = FIELD_EX32(le32_to_cpu(req->cmd.cdw10),
                               NVME_IDENTIFY_DW10, CNTID);
    NvmeCtrlList list = { 0 };
    unsigned nr = 0;

    for (unsigned id = MAX(from, 1); id <= NVME_SUBSYS_MAX_CTRLS; id++) {
        NvmeCtrl *other = nvme_subsys_ctrl(ctrl->subsys, id);
        if (other && (!ns || nvme_subsys_attached(other, ns))) {
            list.ids[nr++] = cpu_to_le16(id);
        }
    }
    list.count = cpu_to_le16(nr);
    return nvme_copy_to_host(ctrl, req, &list, sizeof(list));
}

uint16_t nvme_identify_ns_ctrl_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);

    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    if (!ns) {
        NvmeCtrlList empty = { 0 };
        return nvme_copy_to_host(ctrl, req, &empty, sizeof(empty));
    }
    return nvme_identify_ctrl_list(ctrl, req, ns);
}

uint16_t nvme_identify_subsys_ctrl_list(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_identify_ctrl_list(ctrl, req, NULL);
}

static uint16_t nvme_attach_error(NvmeRequest *req, uint8_t sc)
{
    req->error_loc = NVME_ERR_LOC(dptr, 0);
    return nvme_status(NVME_SCT_CMD_SPECIFIC, sc, true);
}

/*
 * Check every controller of the list against the request before anything
 * changes (base 5.22): all exist, none twice, the private rule holds, and
 * each is in the state the selection needs.
 */
static uint16_t nvme_attach_check(NvmeCtrl *ctrl, NvmeRequest *req,
                                  NvmeNamespace *ns, const NvmeCtrlList *list,
                                  bool attach, NvmeCtrl **targets)
{
    unsigned count = le16_to_cpu(list->count);

    if (count == 0 || count > NVME_CTRL_LIST_MAX) {
        return nvme_attach_error(req, NVME_SC_CTRL_LIST_INVALID);
    }
    for (unsigned i = 0; i < count; i++) {
        NvmeCtrl *target = nvme_subsys_ctrl(ctrl->subsys,
                                            le16_to_cpu(list->ids[i]));
        if (!target) {
            return nvme_attach_error(req, NVME_SC_CTRL_LIST_INVALID);
        }
        for (unsigned j = 0; j < i; j++) {
            if (targets[j] == target) {
                return nvme_attach_error(req, NVME_SC_CTRL_LIST_INVALID);
            }
        }
        if (attach && nvme_subsys_attached(target, ns)) {
            return nvme_attach_error(req, NVME_SC_NS_ALREADY_ATTACHED);
        }
        /* a private namespace is attached to one controller at a time */
        if (attach && !ns->subsys &&
            (i > 0 || nvme_subsys_private_in_use(ctrl->subsys, ns))) {
            return nvme_attach_error(req, NVME_SC_NS_IS_PRIVATE);
        }
        if (!attach && !nvme_subsys_attached(target, ns)) {
            return nvme_attach_error(req, NVME_SC_NS_NOT_ATTACHED);
        }
        if (attach && nvme_ctrl_ns(target, ns->nsid)) {
            /*
             * another namespace holds the NSID there: cannot happen while
             * NSIDs are unique in the subsystem, but never overwrite
             */
            return nvme_attach_error(req, NVME_SC_NS_ALREADY_ATTACHED);
        }
        targets[i] = target;
    }
    return NVME_OK;
}

/* base 5.22: Namespace Attachment (attach or detach, controller list) */
uint16_t nvme_admin_ns_attachment(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint32_t sel = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_NS_ATTACH_DW10,
                              SEL);
    NvmeNamespace *ns = nvme_subsys_ns(ctrl->subsys, nsid);
    g_autofree NvmeCtrlList *list = g_new0(NvmeCtrlList, 1);
    NvmeCtrl *targets[NVME_SUBSYS_MAX_CTRLS];
    unsigned count;
    uint16_t status;

    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    if (!ns) {
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    if (sel != NVME_NS_ATTACH && sel != NVME_NS_DETACH) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    status = nvme_copy_from_host(ctrl, req, list, sizeof(*list));
    if (status) {
        return status;
    }
    count = le16_to_cpu(list->count);
    if (count > NVME_SUBSYS_MAX_CTRLS) {
        /* more than the subsystem holds: some id must be wrong or repeated */
        return nvme_attach_error(req, NVME_SC_CTRL_LIST_INVALID);
    }
    status = nvme_attach_check(ctrl, req, ns, list, sel == NVME_NS_ATTACH,
                               targets);
    if (status) {
        return status;
    }
    for (unsigned i = 0; i < count; i++) {
        nvme_subsys_set_attached(targets[i], ns, sel == NVME_NS_ATTACH);
    }
    return NVME_OK;
}
