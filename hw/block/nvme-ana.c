/*
 * Asymmetric Namespace Access (NVMe Base 2.0, 8.1): ANA groups, the state
 * of each (controller, group) pair, the ANA log page (5.16.1.12), state
 * changes with their Asynchronous Event fan-out, and the monitor commands
 * that change states (QMP nvme-ana-set-state, HMP nvme_ana_inject_state).
 *
 * A state change is validated whole before anything is applied; applying
 * returns early when nothing changes, else bumps the controller's change
 * count and queues a Notice (ANA change, log 0Ch) on that controller. The
 * notice stays masked until the host reads the ANA log with RAE cleared
 * (nvme-admin.c masks events per log page).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "qapi/qapi-events-nvme.h"
#include "qapi/util.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "hw/qdev-core.h"
#include "nvme.h"
#include "trace.h"

/* Spec state values by QAPI name, and back */
static const uint8_t nvme_ana_state_value[NVME_ANA_ACCESS_STATE__MAX] = {
    [NVME_ANA_ACCESS_STATE_OPTIMIZED]       = NVME_ANA_OPTIMIZED,
    [NVME_ANA_ACCESS_STATE_NON_OPTIMIZED]   = NVME_ANA_NON_OPTIMIZED,
    [NVME_ANA_ACCESS_STATE_INACCESSIBLE]    = NVME_ANA_INACCESSIBLE,
    [NVME_ANA_ACCESS_STATE_PERSISTENT_LOSS] = NVME_ANA_PERSISTENT_LOSS,
    [NVME_ANA_ACCESS_STATE_CHANGE]          = NVME_ANA_CHANGE,
};

static NvmeAnaAccessState nvme_ana_state_name(uint8_t value)
{
    for (int i = 0; i < NVME_ANA_ACCESS_STATE__MAX; i++) {
        if (nvme_ana_state_value[i] == value) {
            return i;
        }
    }
    g_assert_not_reached();         /* we only ever store the values above */
}

/* The one accessor that checks a group id's bounds (1-based). */
static bool nvme_ana_grpid_valid(uint32_t grpid)
{
    return grpid >= 1 && grpid <= NVME_ANA_GRP_MAX;
}

static uint8_t *nvme_ana_state_ref(NvmeSubsystem *subsys, unsigned slot,
                                   uint32_t grpid)
{
    assert(nvme_ana_grpid_valid(grpid) && slot < NVME_SUBSYS_MAX_CTRLS);
    return &subsys->ana_groups->state[slot][grpid - 1];
}

/* ---- life cycle ---------------------------------------------------------- */

void nvme_ana_init_subsys(NvmeSubsystem *subsys)
{
    subsys->ana_groups = g_new0(NvmeAnaGroups, 1);
}

static void nvme_ana_cancel_transition(NvmeSubsystem *subsys, unsigned slot,
                                       uint32_t grpid)
{
    NvmeAnaTransition *t = &subsys->ana_groups->transition[slot][grpid - 1];

    if (t->timer) {
        timer_free(t->timer);
        t->timer = NULL;
    }
}

void nvme_ana_free_subsys(NvmeSubsystem *subsys)
{
    if (!subsys->ana_groups) {
        return;
    }
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        nvme_ana_ctrl_left(subsys, slot);
    }
    g_free(subsys->ana_groups);
    subsys->ana_groups = NULL;
}

/* Every pair starts optimized. */
void nvme_ana_ctrl_joined(NvmeSubsystem *subsys, unsigned slot)
{
    if (!subsys->ana_groups) {
        return;
    }
    for (uint32_t grpid = 1; grpid <= NVME_ANA_GRP_MAX; grpid++) {
        *nvme_ana_state_ref(subsys, slot, grpid) = NVME_ANA_OPTIMIZED;
        subsys->ana_groups->grp_chgcnt[slot][grpid - 1] = 0;
    }
    subsys->ana_groups->chgcnt[slot] = 0;
}

void nvme_ana_ctrl_left(NvmeSubsystem *subsys, unsigned slot)
{
    if (!subsys->ana_groups) {
        return;
    }
    for (uint32_t grpid = 1; grpid <= NVME_ANA_GRP_MAX; grpid++) {
        nvme_ana_cancel_transition(subsys, slot, grpid);
    }
}

/* ana.grpid: 1-128 with ana=true; without a value a namespace is in group 1 */
bool nvme_ana_ns_setup(NvmeNamespace *ns, NvmeSubsystem *subsys, Error **errp)
{
    if (!subsys->ana) {
        if (ns->ana_grpid) {
            error_setg(errp, "nvme-ns: 'ana.grpid' needs ANA: set ana=true on "
                       "the namespace's nvme-subsys (subsystem '%s' has no "
                       "ANA)", subsys->subnqn);
            return false;
        }
        return true;
    }
    if (ns->ana_grpid == 0) {
        ns->ana_grpid = 1;
    }
    if (!nvme_ana_grpid_valid(ns->ana_grpid)) {
        error_setg(errp, "nvme-ns: 'ana.grpid' %u is out of range: ANA group "
                   "ids are 1 to %d", ns->ana_grpid, NVME_ANA_GRP_MAX);
        return false;
    }
    return true;
}

/* base 5.17.2.2: what a host needs to accept ANA (Linux multipath.c too) */
void nvme_ana_init_id_ctrl(NvmeCtrl *ctrl, NvmeIdCtrl *id)
{
    if (!ctrl->subsys->ana) {
        return;
    }
    id->cmic |= NVME_CMIC_ANA;
    id->oaes |= cpu_to_le32(NVME_OAES_ANA_CHANGE);
    id->anatt = NVME_ANATT_S;
    id->anacap = NVME_ANACAP_OPTIMIZED | NVME_ANACAP_NON_OPTIMIZED |
                 NVME_ANACAP_INACCESSIBLE | NVME_ANACAP_PERSISTENT_LOSS |
                 NVME_ANACAP_CHANGE | NVME_ANACAP_GRPID_STATIC;
    id->anagrpmax = cpu_to_le32(NVME_ANA_GRP_MAX);
    id->nanagrpid = cpu_to_le32(NVME_ANA_GRP_MAX);
    /* Linux refuses MNAN 0 or above NN with ANA */
    id->mnan = id->nn;
}

/* ---- the I/O gate and the log page --------------------------------------- */

uint16_t nvme_ana_check_io(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    NvmeSubsystem *subsys = ctrl->subsys;

    if (!subsys->ana_groups) {
        return NVME_OK;
    }
    /* path errors never carry DNR: the host retries on another path */
    switch (*nvme_ana_state_ref(subsys, ctrl->cntlid - 1, ns->ana_grpid)) {
    case NVME_ANA_INACCESSIBLE:
        return nvme_status(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE, false);
    case NVME_ANA_PERSISTENT_LOSS:
        return nvme_status(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS, false);
    case NVME_ANA_CHANGE:
        return nvme_status(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION, false);
    default:
        return NVME_OK;         /* optimized and non-optimized serve I/O */
    }
}

/* NSIDs attached to @ctrl in group @grpid, ascending; returns how many */
static unsigned nvme_ana_grp_nsids(NvmeCtrl *ctrl, uint32_t grpid,
                                   uint32_t *nsids)
{
    unsigned nr = 0;

    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(ctrl, nsid);
        if (ns && ns->ana_grpid == grpid) {
            if (nsids) {
                nsids[nr] = nsid;
            }
            nr++;
        }
    }
    return nr;
}

/*
 * base 5.16.1.12: one descriptor per group holding namespaces attached to
 * this controller, in group order, each with its NSIDs ascending; with RGO
 * (LSP bit 0) the descriptors carry no NSIDs. @buf is NVME_ANA_LOG_MAX
 * bytes, zeroed. Two passes over the namespaces, whatever the group count.
 */
uint16_t nvme_log_ana(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    NvmeSubsystem *subsys = ctrl->subsys;
    uint8_t lsp = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_LOG_DW10, LSP);
    bool rgo = lsp & NVME_ANA_LSP_RGO;
    unsigned slot = ctrl->cntlid - 1;
    NvmeAnaLogHeader *hdr = buf;
    size_t at = sizeof(*hdr);
    uint32_t nr[NVME_ANA_GRP_MAX] = { 0 };
    size_t nsid_at[NVME_ANA_GRP_MAX];
    uint16_t ngrps = 0;

    if (!subsys->ana_groups) {
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE,
                           true);
    }
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(ctrl, nsid);

        if (ns && nvme_ana_grpid_valid(ns->ana_grpid)) {
            nr[ns->ana_grpid - 1]++;
        }
    }
    for (uint32_t grpid = 1; grpid <= NVME_ANA_GRP_MAX; grpid++) {
        NvmeAnaGroupDesc desc = {
            .grpid = cpu_to_le32(grpid),
            .nnsids = cpu_to_le32(rgo ? 0 : nr[grpid - 1]),
            .chgcnt = cpu_to_le64(subsys->ana_groups->grp_chgcnt[slot]
                                  [grpid - 1]),
            .state = *nvme_ana_state_ref(subsys, slot, grpid),
        };

        if (!nr[grpid - 1]) {
            continue;
        }
        memcpy((uint8_t *)buf + at, &desc, sizeof(desc));
        at += sizeof(desc);
        nsid_at[grpid - 1] = at;
        at += rgo ? 0 : nr[grpid - 1] * sizeof(uint32_t);
        ngrps++;
    }
    for (uint32_t nsid = 1; !rgo && nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(ctrl, nsid);

        if (ns && nvme_ana_grpid_valid(ns->ana_grpid)) {
            stl_le_p((uint8_t *)buf + nsid_at[ns->ana_grpid - 1], nsid);
            nsid_at[ns->ana_grpid - 1] += sizeof(uint32_t);
        }
    }
    hdr->chgcnt = cpu_to_le64(subsys->ana_groups->chgcnt[slot]);
    hdr->ngrps = cpu_to_le16(ngrps);
    return NVME_OK;
}

/*
 * @ns was attached to or detached from @ctrl: the descriptor of its group
 * in that controller's log changed (its NSIDs), and so its change counts.
 */
void nvme_ana_ns_attachment_changed(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    NvmeAnaGroups *groups = ctrl->subsys->ana_groups;
    unsigned slot = ctrl->cntlid - 1;

    if (!groups || !nvme_ana_grpid_valid(ns->ana_grpid)) {
        return;
    }
    groups->chgcnt[slot]++;
    groups->grp_chgcnt[slot][ns->ana_grpid - 1] = groups->chgcnt[slot];
    trace_pci_nvme_ana_state(ctrl->cntlid, ns->ana_grpid,
                         *nvme_ana_state_ref(ctrl->subsys, slot,
                                             ns->ana_grpid),
                         groups->chgcnt[slot]);
}

/* ---- state changes ------------------------------------------------------- */

static const char *nvme_ana_ctrl_name(NvmeCtrl *ctrl)
{
    return DEVICE(ctrl)->id ? DEVICE(ctrl)->id : ctrl->params.serial;
}

/* Apply one (controller, group) state; nothing happens if it is unchanged. */
static void nvme_ana_apply(NvmeSubsystem *subsys, unsigned slot,
                           uint32_t grpid, uint8_t state)
{
    NvmeAnaGroups *groups = subsys->ana_groups;
    uint8_t *cur = nvme_ana_state_ref(subsys, slot, grpid);
    NvmeCtrl *ctrl = subsys->ctrls[slot];

    if (*cur == state || !ctrl) {
        return;
    }
    *cur = state;
    groups->chgcnt[slot]++;
    groups->grp_chgcnt[slot][grpid - 1] = groups->chgcnt[slot];
    trace_pci_nvme_ana_state(ctrl->cntlid, grpid, state, groups->chgcnt[slot]);
    /* only a controller with namespaces in the group sees its log change */
    if (nvme_ana_grp_nsids(ctrl, grpid, NULL)) {
        nvme_enqueue_event(ctrl, NVME_AER_TYPE_NOTICE,
                           NVME_AER_INFO_NOTICE_ANA_CHANGE, NVME_LOG_ANA);
    }
    qapi_event_send_nvme_ana_state_changed(nvme_ana_ctrl_name(ctrl),
                                           ctrl->cntlid, grpid,
                                           nvme_ana_state_name(state),
                                           groups->chgcnt[slot]);
}

static void nvme_ana_transition_end(void *opaque)
{
    NvmeAnaTransition *t = opaque;

    timer_free(t->timer);
    t->timer = NULL;
    nvme_ana_apply(t->subsys, t->slot, t->grpid, t->target);
}

/* Enter CHANGE now; reach @target after @ms (the caller checked ANATT). */
static void nvme_ana_start_transition(NvmeSubsystem *subsys, unsigned slot,
                                      uint32_t grpid, uint8_t target,
                                      uint32_t ms)
{
    NvmeAnaTransition *t = &subsys->ana_groups->transition[slot][grpid - 1];

    nvme_ana_apply(subsys, slot, grpid, NVME_ANA_CHANGE);
    t->subsys = subsys;
    t->slot = slot;
    t->grpid = grpid;
    t->target = target;
    t->timer = aio_timer_new(nvme_subsys_ctx(subsys), QEMU_CLOCK_VIRTUAL,
                             SCALE_MS, nvme_ana_transition_end, t);
    timer_mod(t->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + ms);
}

/* ---- the monitor --------------------------------------------------------- */

/* As nvme_subsys_resolve(), for a subsystem with ANA */
static NvmeSubsystem *nvme_ana_resolve(const char *id, NvmeCtrl **ctrl,
                                       Error **errp)
{
    NvmeSubsystem *subsys = nvme_subsys_resolve(id, ctrl, errp);

    if (!subsys) {
        return NULL;
    }
    if (!subsys || !subsys->ana_groups) {
        error_setg(errp, "'%s' has no ANA: its subsystem '%s' needs "
                   "ana=true (-device nvme-subsys,...,ana=true)", id,
                   subsys ? subsys->subnqn : "?");
        return NULL;
    }
    return subsys;
}

void qmp_nvme_ana_set_state(const char *id, uint32_t grpid,
                            NvmeAnaAccessState state, bool has_transition_ms,
                            uint32_t transition_ms, Error **errp)
{
    uint8_t value = nvme_ana_state_value[state];
    NvmeCtrl *ctrl;
    NvmeSubsystem *subsys = nvme_ana_resolve(id, &ctrl, errp);

    if (!subsys) {
        return;
    }
    if (!nvme_ana_grpid_valid(grpid)) {
        error_setg(errp, "grpid %u is out of range: ANA group ids are 1 to %d",
                   grpid, NVME_ANA_GRP_MAX);
        return;
    }
    if (has_transition_ms && value == NVME_ANA_CHANGE) {
        error_setg(errp, "a transition ends in a state other than 'change'");
        return;
    }
    if (has_transition_ms && transition_ms > NVME_ANATT_S * 1000) {
        error_setg(errp, "transition-ms %u is longer than ANATT (%d s): the "
                   "host would give up on the path", transition_ms,
                   NVME_ANATT_S);
        return;
    }
    nvme_subsys_pause(subsys);
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (!subsys->ctrls[slot] || (ctrl && subsys->ctrls[slot] != ctrl)) {
            continue;
        }
        nvme_ana_cancel_transition(subsys, slot, grpid);
        if (has_transition_ms) {
            nvme_ana_start_transition(subsys, slot, grpid, value,
                                      transition_ms);
        } else {
            nvme_ana_apply(subsys, slot, grpid, value);
        }
    }
    nvme_subsys_resume(subsys);
}

/* Groups worth showing: those with namespaces, or not in the initial state */
static bool nvme_ana_grp_in_use(NvmeSubsystem *subsys, unsigned slot,
                                uint32_t grpid)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];
        if (ns && ns->ana_grpid == grpid) {
            return true;
        }
    }
    return *nvme_ana_state_ref(subsys, slot, grpid) != NVME_ANA_OPTIMIZED;
}

static NvmeAnaControllerInfo *nvme_ana_ctrl_info(NvmeSubsystem *subsys,
                                                 unsigned slot)
{
    NvmeCtrl *ctrl = subsys->ctrls[slot];
    NvmeAnaControllerInfo *info = g_new0(NvmeAnaControllerInfo, 1);
    NvmeAnaGroupInfoList **tail = &info->groups;

    info->id = g_strdup(nvme_ana_ctrl_name(ctrl));
    info->cntlid = ctrl->cntlid;
    info->change_count = subsys->ana_groups->chgcnt[slot];
    for (uint32_t grpid = 1; grpid <= NVME_ANA_GRP_MAX; grpid++) {
        NvmeAnaGroupInfo *grp;
        uint32_t nsids[NVME_MAX_NAMESPACES];
        unsigned nr;
        uint32List **ns_tail;

        if (!nvme_ana_grp_in_use(subsys, slot, grpid)) {
            continue;
        }
        grp = g_new0(NvmeAnaGroupInfo, 1);
        grp->grpid = grpid;
        grp->state = nvme_ana_state_name(*nvme_ana_state_ref(subsys, slot,
                                                             grpid));
        nr = nvme_ana_grp_nsids(ctrl, grpid, nsids);
        ns_tail = &grp->nsids;
        for (unsigned i = 0; i < nr; i++) {
            QAPI_LIST_APPEND(ns_tail, nsids[i]);
        }
        QAPI_LIST_APPEND(tail, grp);
    }
    return info;
}

static int nvme_ana_query_one(Object *obj, void *opaque)
{
    NvmeAnaSubsystemInfoList ***tail = opaque;
    NvmeSubsystem *subsys;
    NvmeAnaSubsystemInfo *info;
    NvmeAnaControllerInfoList **ctrl_tail;

    if (!object_dynamic_cast(obj, TYPE_NVME_SUBSYS)) {
        return 0;
    }
    subsys = NVME_SUBSYS(obj);
    if (!subsys->ana_groups) {
        return 0;
    }
    info = g_new0(NvmeAnaSubsystemInfo, 1);
    info->id = g_strdup(DEVICE(subsys)->id ?: "");
    info->nqn = g_strdup(subsys->subnqn);
    ctrl_tail = &info->controllers;
    nvme_subsys_pause(subsys);
    for (unsigned slot = 0; slot < NVME_SUBSYS_MAX_CTRLS; slot++) {
        if (subsys->ctrls[slot]) {
            QAPI_LIST_APPEND(ctrl_tail, nvme_ana_ctrl_info(subsys, slot));
        }
    }
    nvme_subsys_resume(subsys);
    QAPI_LIST_APPEND(*tail, info);
    return 0;
}

NvmeAnaSubsystemInfoList *qmp_query_nvme_ana(Error **errp)
{
    NvmeAnaSubsystemInfoList *list = NULL, **tail = &list;

    object_child_foreach_recursive(object_get_root(), nvme_ana_query_one,
                                   &tail);
    return list;
}

/* HMP: nvme_ana_inject_state <id> <grpid> <state> [transition-ms] */
void hmp_nvme_ana_inject_state(Monitor *mon, const QDict *qdict)
{
    const char *id = qdict_get_str(qdict, "id");
    int64_t grpid = qdict_get_int(qdict, "grpid");
    const char *name = qdict_get_str(qdict, "state");
    bool has_ms = qdict_haskey(qdict, "ms");
    int64_t ms = qdict_get_try_int(qdict, "ms", 0);
    Error *err = NULL;
    int state = qapi_enum_parse(&NvmeAnaAccessState_lookup, name, -1, NULL);

    if (state < 0) {
        error_setg(&err, "unknown ANA state '%s': use optimized, "
                   "non-optimized, inaccessible, persistent-loss or change",
                   name);
    } else if (grpid < 0 || grpid > UINT32_MAX) {
        error_setg(&err, "grpid %" PRId64 " is out of range: ANA group ids "
                   "are 1 to %d", grpid, NVME_ANA_GRP_MAX);
    } else if (has_ms && (ms < 0 || ms > UINT32_MAX)) {
        error_setg(&err, "transition time %" PRId64 " ms is out of range", ms);
    } else {
        qmp_nvme_ana_set_state(id, grpid, state, has_ms, ms, &err);
    }
    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "%s: ANA state %s(%u) injected\n", id, name,
                   nvme_ana_state_value[state]);
}

void hmp_info_nvme_ana(Monitor *mon, const QDict *qdict)
{
    g_autoptr(NvmeAnaSubsystemInfoList) list = qmp_query_nvme_ana(NULL);

    if (!list) {
        monitor_printf(mon, "no NVMe subsystem with ANA\n");
        return;
    }
    for (NvmeAnaSubsystemInfoList *s = list; s; s = s->next) {
        monitor_printf(mon, "%s (%s)\n", s->value->nqn, s->value->id);
        for (NvmeAnaControllerInfoList *c = s->value->controllers; c;
             c = c->next) {
            monitor_printf(mon, "  controller %s cntlid %u change count %"
                           PRIu64 "\n", c->value->id, c->value->cntlid,
                           c->value->change_count);
            for (NvmeAnaGroupInfoList *g = c->value->groups; g; g = g->next) {
                monitor_printf(mon, "    group %u: %s, nsids", g->value->grpid,
                               NvmeAnaAccessState_str(g->value->state));
                for (uint32List *n = g->value->nsids; n; n = n->next) {
                    monitor_printf(mon, " %u", n->value);
                }
                monitor_printf(mon, "%s\n", g->value->nsids ? "" : " none");
            }
        }
    }
}
