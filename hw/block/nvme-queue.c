/*
 * NVMe admin commands that manage queues (NVMe Base 2.0, 5.4 to 5.8):
 * Create and Delete I/O Completion and Submission Queue, and Doorbell
 * Buffer Config. The queues themselves, and the teardown a Delete starts,
 * belong to nvme.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"
#include "trace.h"

/* Check a queue's base address and size for Create I/O CQ/SQ. */
static uint16_t nvme_check_queue_memory(NvmeCtrl *ctrl, NvmeRequest *req,
                                        uint64_t addr, uint32_t size,
                                        unsigned entry_size)
{
    if (addr & (ctrl->page_size - 1)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    /* a CQ is written by the controller, an SQ only read */
    if (!nvme_addr_is_ram(ctrl, addr, (hwaddr)size * entry_size,
                          entry_size == NVME_CQE_SIZE)) {
        req->error_loc = NVME_ERR_LOC(dptr, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, true);
    }
    return NVME_OK;
}

/*
 * What Create I/O CQ and Create I/O SQ check alike (base 5.4, 5.5): a free
 * id within what Number of Queues allocated, a size within CAP.MQES, a
 * physically contiguous queue (CAP.CQR), the entry size set in CC first,
 * and queue memory in guest RAM.
 */
static uint16_t nvme_check_new_queue(NvmeCtrl *ctrl, NvmeRequest *req,
                                     bool is_cq, bool contiguous)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint16_t qid = FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID);
    uint32_t size = FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1;
    uint16_t allocated = is_cq ? ctrl->features.ncqa : ctrl->features.nsqa;
    unsigned entry_size = is_cq ? NVME_CQE_SIZE : NVME_SQE_SIZE;
    unsigned qes = is_cq ? FIELD_EX32(ctrl->cc, NVME_CC, IOCQES)
                         : FIELD_EX32(ctrl->cc, NVME_CC, IOSQES);

    if (qid == 0 || qid > ctrl->params.max_ioqpairs || qid > allocated + 1 ||
        (is_cq ? ctrl->cq[qid] != NULL : ctrl->sq[qid] != NULL)) {
        /* an SQ being deleted still holds its id */
        req->error_loc = NVME_ERR_LOC(cdw10, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    if (size < 2 || size > FIELD_EX64(ctrl->cap, NVME_CAP, MQES) + 1) {
        req->error_loc = NVME_ERR_LOC(cdw10, 16);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QSIZE, true);
    }
    if (!contiguous) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
    }
    if ((1u << qes) != entry_size) {
        /* base 3.1.4.5: IOSQES/IOCQES must be valid before queues exist */
        req->error_loc = NVME_ERR_LOC_NONE;
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE, true);
    }
    return nvme_check_queue_memory(ctrl, req, le64_to_cpu(req->cmd.dptr.prp1),
                                   size, entry_size);
}

/* base 5.4: Create I/O Completion Queue */
uint16_t nvme_admin_create_cq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint16_t vector = FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, IV);
    uint16_t status;

    if (vector >= ctrl->params.msix_qsize) {
        req->error_loc = NVME_ERR_LOC(cdw11, 16);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IRQ_VECTOR,
                           true);
    }
    status = nvme_check_new_queue(ctrl, req, true,
                                  FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, PC));
    if (status) {
        return status;
    }
    nvme_cq_create(ctrl, FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID),
                   le64_to_cpu(req->cmd.dptr.prp1),
                   FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1, vector,
                   FIELD_EX32(dw11, NVME_CREATE_CQ_DW11, IEN));
    return NVME_OK;
}

/* base 5.5: Create I/O Submission Queue */
uint16_t nvme_admin_create_sq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint16_t cqid = FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, CQID);
    uint16_t status;

    if (cqid == 0 || !nvme_cqid_valid(ctrl, cqid)) {
        req->error_loc = NVME_ERR_LOC(cdw11, 16);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID, true);
    }
    status = nvme_check_new_queue(ctrl, req, false,
                                  FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, PC));
    if (status) {
        return status;
    }
    nvme_sq_create(ctrl, FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QID), cqid,
                   le64_to_cpu(req->cmd.dptr.prp1),
                   FIELD_EX32(dw10, NVME_CREATE_Q_DW10, QSIZE) + 1,
                   FIELD_EX32(dw11, NVME_CREATE_SQ_DW11, QPRIO));
    return NVME_OK;
}

/*
 * base 5.7: Delete I/O Submission Queue. Its commands end, aborted if they
 * had not finished; the Delete completes after the last one (nvme.c).
 */
uint16_t nvme_admin_delete_sq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint16_t sqid = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_CREATE_Q_DW10,
                               QID);

    /* a queue already being deleted is no longer a valid id */
    if (sqid == 0 || !nvme_sqid_valid(ctrl, sqid)) {
        req->error_loc = NVME_ERR_LOC(cdw10, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    return nvme_sq_delete(ctrl, ctrl->sq[sqid], req);
}

/* base 5.6: Delete I/O Completion Queue */
uint16_t nvme_admin_delete_cq(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint16_t cqid = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_CREATE_Q_DW10,
                               QID);

    if (cqid == 0 || !nvme_cqid_valid(ctrl, cqid)) {
        req->error_loc = NVME_ERR_LOC(cdw10, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID, true);
    }
    if (!QTAILQ_EMPTY(&ctrl->cq[cqid]->sqs)) {
        req->error_loc = NVME_ERR_LOC(cdw10, 0);
        return nvme_status(NVME_SCT_CMD_SPECIFIC,
                           NVME_SC_INVALID_QUEUE_DELETION, true);
    }
    nvme_cq_free(ctrl, ctrl->cq[cqid]);
    trace_pci_nvme_cq_delete(cqid);
    return NVME_OK;
}

/*
 * base 5.8: Doorbell Buffer Config (shadow doorbells and EventIdx). Queues
 * that exist already switch to the buffers at once: each looks at its
 * shadow doorbell, where the host may have written before this command
 * completed, and publishes its EventIdx.
 */
uint16_t nvme_admin_dbbuf_config(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint64_t dbs = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t eis = le64_to_cpu(req->cmd.dptr.prp2);

    if ((dbs | eis) & (ctrl->page_size - 1)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    if (!nvme_addr_is_ram(ctrl, dbs, ctrl->page_size, false) ||
        !nvme_addr_is_ram(ctrl, eis, ctrl->page_size, true)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    ctrl->dbbuf_dbs = dbs;
    ctrl->dbbuf_eis = eis;
    ctrl->dbbuf_enabled = true;
    nvme_ring_unmap(&ctrl->dbbuf_db_ring);      /* sent again: new pages */
    nvme_ring_unmap(&ctrl->dbbuf_ei_ring);
    ctrl->dbbuf_db_ring = (NvmeRing) { .addr = dbs, .len = ctrl->page_size };
    ctrl->dbbuf_ei_ring = (NvmeRing) {
        .addr = eis, .len = ctrl->page_size, .to_guest = true,
    };
    nvme_ring_map(ctrl, &ctrl->dbbuf_db_ring);
    nvme_ring_map(ctrl, &ctrl->dbbuf_ei_ring);
    trace_pci_nvme_dbbuf_config(dbs, eis);
    for (unsigned qid = 1; qid <= ctrl->params.max_ioqpairs; qid++) {
        if (ctrl->cq[qid]) {
            nvme_cq_init_shadow(ctrl, ctrl->cq[qid]);
        }
        if (ctrl->sq[qid] && !ctrl->sq[qid]->deleting) {
            nvme_sq_init_shadow(ctrl, ctrl->sq[qid]);
        }
    }
    return NVME_OK;
}
