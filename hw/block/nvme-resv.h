/*
 * NVMe reservations (Base 2.0, 8.19; NVM 3.3.4-3.3.7): the four I/O
 * commands, the check that fences other hosts' I/O, the Host Identifier
 * and reservation features, and the Reservation Notification log.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_RESV_H
#define HW_BLOCK_NVME_RESV_H

#include "nvme.h"

/* I/O commands, for the NVM command table */
uint16_t nvme_io_resv_register(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_io_resv_report(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_io_resv_acquire(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_io_resv_release(NvmeCtrl *ctrl, NvmeRequest *req);

/*
 * Reservation Conflict if the namespace's reservation bars this controller's
 * host from what @req does (NVME_CMDF_RESV_READ/WRITE); call it only when
 * the namespace has a reservation (ns->resv.rtype).
 */
uint16_t nvme_resv_check_io(NvmeCtrl *ctrl, NvmeRequest *req);

/* Features 81h, 82h and 83h, for the feature table */
uint16_t nvme_set_host_id(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11);
uint16_t nvme_get_host_id(NvmeCtrl *ctrl, NvmeRequest *req,
                          const NvmeFeatures *feat, uint32_t dw11);
uint16_t nvme_set_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11);
uint16_t nvme_get_resv_mask(NvmeCtrl *ctrl, NvmeRequest *req,
                            const NvmeFeatures *feat, uint32_t dw11);
uint16_t nvme_set_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               uint32_t dw11);
uint16_t nvme_get_resv_persist(NvmeCtrl *ctrl, NvmeRequest *req,
                               const NvmeFeatures *feat, uint32_t dw11);

/* Log page 80h: each read takes the oldest notice off the log */
uint16_t nvme_log_resv_notice(NvmeCtrl *ctrl, NvmeRequest *req, void *buf);

#endif /* HW_BLOCK_NVME_RESV_H */
