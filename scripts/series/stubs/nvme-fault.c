/*
 * Faults injected from the monitor: none yet. Every hook the controller
 * asks answers "no fault".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"
#include "nvme-fault.h"

uint16_t nvme_fault_cmd(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return NVME_OK;
}

uint16_t nvme_fault_range(NvmeRequest *req, uint64_t slba, uint64_t nlb,
                          bool is_write)
{
    return NVME_OK;
}

bool nvme_fault_ns_wp(NvmeNamespace *ns)
{
    return false;
}

uint8_t nvme_fault_smart_warning(NvmeCtrl *ctrl)
{
    return 0;
}

void nvme_fault_delay_bh(void *opaque)
{
}

void nvme_fault_ctrl_reset(NvmeCtrl *ctrl)
{
}

void nvme_fault_ctrl_gone(NvmeCtrl *ctrl)
{
}

void nvme_fault_subsys_gone(NvmeSubsystem *subsys)
{
}
