/*
 * Capacity pool and Namespace Management: not supported yet. An
 * nvme-subsys with pool= is refused, so no controller offers Namespace
 * Management.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"
#include "nvme-pool.h"

bool nvme_pool_init(NvmeSubsystem *subsys, Error **errp)
{
    if (subsys->pool_blk) {
        error_setg(errp, "nvme-subsys: 'pool' is not supported");
        return false;
    }
    return true;
}

void nvme_pool_free(NvmeSubsystem *subsys)
{
}

uint16_t nvme_admin_ns_mgmt(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, true);
}

void nvme_pool_capacity(NvmeSubsystem *subsys, uint64_t *total,
                        uint64_t *unallocated)
{
    *total = 0;
    *unallocated = 0;
}

void nvme_pool_attachment_changed(NvmeNamespace *ns, uint16_t cntlid,
                                  bool attached)
{
}

bool nvme_pool_attached(NvmeNamespace *ns, uint16_t cntlid)
{
    return false;
}

void nvme_pool_format_changed(NvmeNamespace *ns)
{
}

void nvme_pool_resv_changed(NvmeNamespace *ns)
{
}
