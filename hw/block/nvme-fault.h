/*
 * Faults injected from the monitor (nvme-fault-inject): what the rest of
 * the device asks when a subsystem has any (subsys->nr_faults).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_FAULT_H
#define HW_BLOCK_NVME_FAULT_H

#include "nvme.h"

/*
 * An I/O command passed the gates: NVME_OK to run it, a status to fail it
 * with (kind status), or NVME_NO_COMPLETE when it was parked (latency)
 */
uint16_t nvme_fault_cmd(NvmeCtrl *ctrl, NvmeRequest *req);
/* An LBA range command: a media error, or write protection; NVME_OK if none */
uint16_t nvme_fault_range(NvmeRequest *req, uint64_t slba, uint64_t nlb,
                          bool is_write);
/* Is @ns write protected by a fault (Identify Namespace NSATTR)? */
bool nvme_fault_ns_wp(NvmeNamespace *ns);
/* The SMART log's injected Critical Warning bits for @ctrl */
uint8_t nvme_fault_smart_warning(NvmeCtrl *ctrl);
/* The controller's guarded BH that starts delayed commands (latency) */
void nvme_fault_delay_bh(void *opaque);

/* The controller is reset: its stall and cfs faults end */
void nvme_fault_ctrl_reset(NvmeCtrl *ctrl);
/* The controller or subsystem goes away: its faults end */
void nvme_fault_ctrl_gone(NvmeCtrl *ctrl);
void nvme_fault_subsys_gone(NvmeSubsystem *subsys);

#endif /* HW_BLOCK_NVME_FAULT_H */
