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
#include "nvme.h"
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
    ctrl->cntlid = slot + 1;
    /* Shared namespaces that exist already: attach unless detached. */
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];
        if (ns && !ns->owner && !ns->detached) {
            nvme_ctrl_attach_ns(ctrl, ns);
        }
    }
    trace_nvme_subsys_add_ctrl(subsys->subnqn, ctrl->cntlid);
    return true;
}

void nvme_subsys_remove_ctrl(NvmeSubsystem *subsys, NvmeCtrl *ctrl)
{
    if (ctrl->cntlid && subsys->ctrls[ctrl->cntlid - 1] == ctrl) {
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

bool nvme_subsys_add_ns(NvmeSubsystem *subsys, NvmeNamespace *ns,
                        Error **errp)
{
    NvmeNamespace *other = nvme_subsys_ns(subsys, ns->nsid);

    if (other) {
        error_setg(errp, "nvme-ns: 'nsid' %u is already used by %s namespace "
                   "'%s' in subsystem '%s' (NSIDs are unique in a "
                   "subsystem): choose another nsid", ns->nsid,
                   other->owner ? "private" : "shared",
                   DEVICE(other)->id ? DEVICE(other)->id : "(anonymous)",
                   subsys->subnqn);
        return false;
    }
    subsys->namespaces[ns->nsid] = ns;
    if (ns->detached) {
        return true;
    }
    if (ns->owner) {
        nvme_ctrl_attach_ns(ns->owner, ns);
        return true;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            nvme_ctrl_attach_ns(subsys->ctrls[slot], ns);
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
            nvme_ctrl_detach_ns(subsys->ctrls[slot], ns);
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
    if (!nvme_subsys_set_nqn(subsys, suffix, errp)) {
        return;
    }
    qbus_init(&subsys->bus, sizeof(NvmeBus), TYPE_NVME_BUS, dev, dev->id);
}

static const Property nvme_subsys_props[] = {
    DEFINE_PROP_STRING("nqn", NvmeSubsystem, nqn_suffix),
};

static void nvme_subsys_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->desc = "NVM subsystem: controllers with subsys=<id> share its "
               "NQN and its namespaces (nvme-ns subsys=<id>)";
    dc->realize = nvme_subsys_realize;
    dc->hotpluggable = false;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    device_class_set_props(dc, nvme_subsys_props);
    object_class_property_set_description(oc, "nqn",
        "Subsystem NQN suffix: the NQN is \"" NVME_NQN_PREFIX "<nqn>\" "
        "(default: the device id)");
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
