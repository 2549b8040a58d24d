/*
 * The capacity pool of an NVM subsystem (nvme-subsys pool=<drive>) and
 * Namespace Management (Base 2.0, 5.20), which carves namespaces from it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_POOL_H
#define HW_BLOCK_NVME_POOL_H

#include "nvme.h"

/*
 * At realize: read the pool's table (or write an empty one on a drive that
 * has none) and create its namespaces, attached as they were.
 */
bool nvme_pool_init(NvmeSubsystem *subsys, Error **errp);
void nvme_pool_free(NvmeSubsystem *subsys);

/* The admin command (create or delete) */
uint16_t nvme_admin_ns_mgmt(NvmeCtrl *ctrl, NvmeRequest *req);

/* Identify Controller's TNVMCAP and UNVMCAP, in bytes (0 without a pool) */
void nvme_pool_capacity(NvmeSubsystem *subsys, uint64_t *total,
                        uint64_t *unallocated);

/* A pool namespace was attached or detached: the table keeps it */
void nvme_pool_attachment_changed(NvmeNamespace *ns, uint16_t cntlid,
                                  bool attached);
/* Is a pool namespace attached to CNTLID @cntlid by its table? */
bool nvme_pool_attached(NvmeNamespace *ns, uint16_t cntlid);
/* A pool namespace's LBA format changed (Format NVM): the table keeps it */
void nvme_pool_format_changed(NvmeNamespace *ns);
/* A namespace's reservation changed: a pool keeps it if PTPL is set */
void nvme_pool_resv_changed(NvmeNamespace *ns);

#endif /* HW_BLOCK_NVME_POOL_H */
