/*
 * Reservations: not supported yet. The reservation commands are invalid
 * opcodes, their features invalid fields, and no host is ever fenced.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"
#include "nvme-resv.h"

static uint16_t nvme_resv_unsupported(void)
{
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, true);
}

uint16_t nvme_io_resv_register(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_resv_unsupported();
}

uint16_t nvme_io_resv_report(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_resv_unsupported();
}

uint16_t nvme_io_resv_acquire(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_resv_unsupported();
}

uint16_t nvme_io_resv_release(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return nvme_resv_unsupported();
}

uint16_t nvme_resv_check_io(NvmeCtrl *ctrl, NvmeRequest *req)
{
    return NVME_OK;
}

uint16_t nvme_set_host_id(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_get_host_id(NvmeCtrl *ctrl, NvmeRequest *req,
                          const NvmeFeatures *feat, uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_set_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_get_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req,
                            const NvmeFeatures *feat, uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_set_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_get_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               const NvmeFeatures *feat, uint32_t dw11)
{
    return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
}

uint16_t nvme_log_resv_notice(NvmeCtrl *ctrl, NvmeRequest *req, void *buf)
{
    return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE, true);
}
