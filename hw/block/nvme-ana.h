/*
 * NVMe Asymmetric Namespace Access (NVMe Base 2.0, 8.1): the state of every
 * (controller, group) pair of a subsystem, its change counts, the ANA log,
 * and the path check of I/O. nvme-ana.c implements it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_ANA_H
#define HW_BLOCK_NVME_ANA_H

#include "qemu/timer.h"
#include "block/nvme.h"
#include "nvme-subsys.h"

typedef struct NvmeRequest NvmeRequest;

#define NVME_ANA_GRP_MAX        128     /* ANA group ids 1..128 (ANAGRPMAX) */
#define NVME_ANATT_S            10      /* ANA transition time, seconds */

/* A scheduled end of an ANA CHANGE state for one (controller, group) */
typedef struct NvmeAnaTransition {
    QEMUTimer   *timer;
    NvmeSubsystem *subsys;
    unsigned    slot;                   /* CNTLID - 1 */
    uint32_t    grpid;
    uint8_t     target;                 /* the state at the end */
} NvmeAnaTransition;

/*
 * ANA state belongs to the (controller, group) pair: in PCIe terms each
 * controller is a path (base 8.1). Indexes: [CNTLID - 1][ANAGRPID - 1].
 */
typedef struct NvmeAnaGroups {
    uint8_t     state[NVME_SUBSYS_MAX_CTRLS][NVME_ANA_GRP_MAX];
    /* the controller's log change count when the group last changed */
    uint64_t    grp_chgcnt[NVME_SUBSYS_MAX_CTRLS][NVME_ANA_GRP_MAX];
    uint64_t    chgcnt[NVME_SUBSYS_MAX_CTRLS];      /* per controller's log */
    NvmeAnaTransition transition[NVME_SUBSYS_MAX_CTRLS][NVME_ANA_GRP_MAX];
} NvmeAnaGroups;

/* A subsystem with ana=true: its group table; the controllers join and leave */
void nvme_ana_init_subsys(NvmeSubsystem *subsys);
void nvme_ana_free_subsys(NvmeSubsystem *subsys);
void nvme_ana_ctrl_joined(NvmeSubsystem *subsys, unsigned slot);
void nvme_ana_ctrl_left(NvmeSubsystem *subsys, unsigned slot);
bool nvme_ana_ns_setup(NvmeNamespace *ns, NvmeSubsystem *subsys, Error **errp);
void nvme_ana_init_id_ctrl(NvmeCtrl *ctrl, NvmeIdCtrl *id);
/* The path status for I/O to @ns through @ctrl, or NVME_OK (base 8.1.3) */
uint16_t nvme_ana_check_io(NvmeCtrl *ctrl, NvmeNamespace *ns);
/* @ns was attached to or detached from @ctrl: the ANA log's counts move */
void nvme_ana_ns_attachment_changed(NvmeCtrl *ctrl, NvmeNamespace *ns);
uint16_t nvme_log_ana(NvmeCtrl *ctrl, NvmeRequest *req, void *buf);
/* Largest ANA log: header, every group, every NSID once */
#define NVME_ANA_LOG_MAX (sizeof(NvmeAnaLogHeader) + \
                          NVME_ANA_GRP_MAX * sizeof(NvmeAnaGroupDesc) + \
                          NVME_MAX_NAMESPACES * sizeof(uint32_t))

#endif /* HW_BLOCK_NVME_ANA_H */
