/*
 * Asymmetric Namespace Access: not reported yet. Every namespace is
 * reachable through every controller; a subsystem with ana=true and
 * namespaces with ana.grpid are refused.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"

void nvme_ana_init_subsys(NvmeSubsystem *subsys)
{
}

void nvme_ana_free_subsys(NvmeSubsystem *subsys)
{
}

void nvme_ana_ctrl_joined(NvmeSubsystem *subsys, unsigned slot)
{
}

void nvme_ana_ctrl_left(NvmeSubsystem *subsys, unsigned slot)
{
}

bool nvme_ana_ns_setup(NvmeNamespace *ns, NvmeSubsystem *subsys, Error **errp)
{
    if (subsys->ana || ns->ana_grpid) {
        error_setg(errp, "nvme-ns: ANA (ana=true, ana.grpid) is not "
                   "supported");
        return false;
    }
    return true;
}

void nvme_ana_init_id_ctrl(NvmeCtrl *ctrl, NvmeIdCtrl *id)
{
}

uint16_t nvme_ana_check_io(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
    return NVME_OK;
}

void nvme_ana_ns_attachment_changed(NvmeCtrl *ctrl, NvmeNamespace *ns)
{
}

uint16_t nvme_log_ana(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE, true);
}
