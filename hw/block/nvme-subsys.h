/*
 * NVMe subsystem (nvme-subsys): what the controllers of one NVM subsystem
 * share: the NQN, controller ids, and the namespaces (Base 2.0, 2.4 and 3.2).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_SUBSYS_H
#define HW_BLOCK_NVME_SUBSYS_H

#include "qemu/queue.h"
#include "qemu/timer.h"
#include "hw/qdev-core.h"
#include "nvme-ns.h"

#define TYPE_NVME_SUBSYS "nvme-subsys"
OBJECT_DECLARE_SIMPLE_TYPE(NvmeSubsystem, NVME_SUBSYS)

#define NVME_SUBSYS_MAX_CTRLS   64      /* controllers in one subsystem */
typedef struct NvmeCtrl NvmeCtrl;
typedef struct NvmeAnaGroups NvmeAnaGroups;     /* nvme-ana.h */
typedef struct NvmePool NvmePool;               /* nvme-pool.c */
typedef struct NvmeFault NvmeFault;             /* nvme-fault.c */

struct NvmeSubsystem {
    DeviceState parent_obj;

    /* properties */
    /* "nqn": the NQN is the prefix plus this */
    char        *nqn_suffix;
    char        *serial;                /* SN of every controller, if set */
    bool        ana;                    /* report ANA on every controller */

    /* state */
    NvmeBus     bus;                    /* shared namespaces live on it */
    /* made for a controller without subsys= */
    bool        implicit;
    char        subnqn[256];
    NvmeCtrl    *ctrls[NVME_SUBSYS_MAX_CTRLS];     /* index = CNTLID - 1 */
    /* every namespace of the subsystem, shared or private, by NSID */
    NvmeNamespace *namespaces[NVME_MAX_NAMESPACES + 1];
    NvmeAnaGroups *ana_groups;          /* with ana=true */
    BlockBackend *pool_blk;             /* "pool": the capacity pool */
    NvmePool    *pool;                  /* nvme-pool.c */
    /* faults injected from the monitor (nvme-fault.c) */
    QTAILQ_HEAD(, NvmeFault) faults;
    unsigned    nr_faults;
};

/* A subsystem of its own for a controller without subsys=, NQN from serial. */
NvmeSubsystem *nvme_subsys_new_implicit(const char *serial, Error **errp);

/* Join the subsystem: allocate a CNTLID, attach the shared namespaces. */
bool nvme_subsys_add_ctrl(NvmeSubsystem *subsys, NvmeCtrl *ctrl, Error **errp);
void nvme_subsys_remove_ctrl(NvmeSubsystem *subsys, NvmeCtrl *ctrl);
NvmeCtrl *nvme_subsys_ctrl(NvmeSubsystem *subsys, uint16_t cntlid);

/* Register a namespace (NSIDs are unique in the subsystem, base 3.2.1). */
bool nvme_subsys_add_ns(NvmeSubsystem *subsys, NvmeNamespace *ns,
                        Error **errp);
void nvme_subsys_remove_ns(NvmeSubsystem *subsys, NvmeNamespace *ns);
/*
 * @ns's Identify data changed: every controller it is attached to lists it
 * in its Changed Namespace List and sends a notice (base 5.16.1.5).
 */
void nvme_subsys_ns_changed(NvmeSubsystem *subsys, NvmeNamespace *ns);
uint32_t nvme_subsys_free_nsid(NvmeSubsystem *subsys);
/*
 * NVM Subsystem Reset (base 3.7.1): every controller of @subsys is reset as
 * at power-on, and reports it in CSTS.NSSRO. @why names the trigger.
 */
void nvme_subsys_reset(NvmeSubsystem *subsys, const char *why);
/* A controller or a subsystem, by its -device id; NULL with errp set */
NvmeSubsystem *nvme_subsys_resolve(const char *id, NvmeCtrl **ctrl,
                                   Error **errp);

static inline NvmeNamespace *nvme_subsys_ns(NvmeSubsystem *subsys,
                                            uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return subsys->namespaces[nsid];
}

/* Can more than one controller ever be part of it (Identify CMIC bit 1)? */
static inline bool nvme_subsys_multi_ctrl(NvmeSubsystem *subsys)
{
    return !subsys->implicit;
}

#endif /* HW_BLOCK_NVME_SUBSYS_H */
