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
#include "block/aio.h"
#include "hw/qdev-core.h"
#include "nvme-ns.h"

#define TYPE_NVME_SUBSYS "nvme-subsys"
OBJECT_DECLARE_SIMPLE_TYPE(NvmeSubsystem, NVME_SUBSYS)

#define NVME_SUBSYS_MAX_CTRLS   64      /* controllers in one subsystem */
typedef struct NvmeCtrl NvmeCtrl;
typedef struct NvmeAnaGroups NvmeAnaGroups;     /* nvme-ana.h */
typedef struct NvmePool NvmePool;               /* nvme-pool.c */
typedef struct NvmeFault NvmeFault;             /* nvme-fault.c */
typedef struct NvmeIothreadPark NvmeIothreadPark;   /* nvme-subsys.c */

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
    /*
     * The iothread all of the above lives in (its controllers' iothread=),
     * or NULL: the main loop. Fixed by the first controller that joins.
     */
    AioContext  *ctx;
    bool        ctx_fixed;
    bool        had_ctrl;               /* a controller joined, ever */
    NvmeIothreadPark *park;             /* nvme_subsys_pause() */
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
/*
 * iothread=: the iothread owns the subsystem's state (its controllers,
 * namespaces, ANA and faults) and runs its queues, timers and AIO. Code
 * from elsewhere (MMIO from a vCPU, the monitor, realize, reset, the
 * memory map) first parks the iothread, between two of its callbacks, and
 * has the state to itself until it resumes it; pauses nest. Without an
 * iothread, and in the iothread itself, both do nothing. Nothing may wait
 * for the iothread while it is parked (a drain, an AIO count): such waits
 * go between a resume and the next pause.
 */
void nvme_subsys_pause(NvmeSubsystem *subsys);
void nvme_subsys_resume(NvmeSubsystem *subsys);
/*
 * A threaded controller, known to its iothread's pause (with the iothread
 * parked): before it parks, the iothread takes what vCPUs left at the
 * controller's doorbells, so a register access comes after them
 */
void nvme_subsys_park_add(NvmeSubsystem *subsys, NvmeCtrl *ctrl);
void nvme_subsys_park_remove(NvmeCtrl *ctrl);
/* Where the subsystem's bottom halves, timers and AIO run */
AioContext *nvme_subsys_ctx(NvmeSubsystem *subsys);
/*
 * A controller with @ctx (NULL: the main loop) joins: the first fixes the
 * subsystem's context and moves its namespaces' drives there; later ones
 * must name the same. False with errp set, nothing changed.
 */
bool nvme_subsys_set_ctx(NvmeSubsystem *subsys, AioContext *ctx,
                         Error **errp);
/* The first controller failed to join after all: nothing stays fixed */
void nvme_subsys_unfix_ctx(NvmeSubsystem *subsys);
/* A namespace's drive goes where the subsystem's state is */
bool nvme_subsys_place_blk(NvmeSubsystem *subsys, BlockBackend *blk,
                           Error **errp);

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
