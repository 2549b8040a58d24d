/*
 * NVMe Set Features and Get Features (Base 2.0, 5.27 and 5.15): one
 * descriptor per feature identifier with its setter and getter, the
 * current values in NvmeCtrl.features, their defaults after a reset.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "nvme-resv.h"
#include "trace.h"

/* Asynchronous Event Configuration bits we act on (OAES: NS attribute, ANA) */
#define NVME_AEC_SUPPORTED  (NVME_SMART_WARN_SPARE | \
                             NVME_SMART_WARN_TEMPERATURE | \
                             NVME_SMART_WARN_RELIABILITY | \
                             NVME_SMART_WARN_READ_ONLY | \
                             NVME_SMART_WARN_VOLATILE_BK | NVME_AEC_NS_ATTR | \
                             NVME_AEC_FW_ACTIVATION | NVME_AEC_ANA_CHANGE)

/* ---- features (base 5.15 Get Features, 5.27 Set Features) ---------------- */

typedef struct NvmeFeatDesc {
    uint32_t caps;              /* Get Features SEL=11b: NVME_FEAT_CAP_* */
    uint16_t (*set)(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11);
    /* @feat: the current values or the defaults */
    uint16_t (*get)(NvmeCtrl *ctrl, NvmeRequest *req, const NvmeFeatures *feat,
                    uint32_t dw11);
} NvmeFeatDesc;

/* The values after realize and after every controller reset */
void nvme_features_defaults(NvmeCtrl *ctrl, NvmeFeatures *feat)
{
    uint16_t ioqs = ctrl->params.max_ioqpairs - 1;

    memset(feat, 0, sizeof(*feat));
    feat->arbitration = FIELD_DP32(0, NVME_ARB, AB, NVME_ARB_AB_NO_LIMIT);
    feat->temp_over = NVME_DEFAULT_TEMP_OVER;
    feat->vwc = ctrl->vwc_default;
    feat->nsqa = ioqs;
    feat->ncqa = ioqs;
    /* the Timestamp starts at 0 with origin 000b (base 5.27.1.12) */
    feat->timestamp_set_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* base 5.27.1.1: round robin only (CAP.AMS 0); the weights are kept unused */
static uint16_t nvme_set_arbitration(NvmeCtrl *ctrl, NvmeRequest *req,
                                     uint32_t dw11)
{
    ctrl->features.arbitration = dw11 & (R_NVME_ARB_AB_MASK |
                                         R_NVME_ARB_LPW_MASK |
                                         R_NVME_ARB_MPW_MASK |
                                         R_NVME_ARB_HPW_MASK);
    return NVME_OK;
}

static uint16_t nvme_get_arbitration(NvmeCtrl *ctrl, NvmeRequest *req,
                                     const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = feat->arbitration;
    return NVME_OK;
}

/* base 5.27.1.2: NPSS is 0, so power state 0 is the only one */
static uint16_t nvme_set_power_mgmt(NvmeCtrl *ctrl, NvmeRequest *req,
                                    uint32_t dw11)
{
    if (FIELD_EX32(dw11, NVME_POWER_MGMT, PS) != 0) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
    }
    ctrl->features.power_mgmt = dw11 & (R_NVME_POWER_MGMT_PS_MASK |
                                        R_NVME_POWER_MGMT_WH_MASK);
    return NVME_OK;
}

static uint16_t nvme_get_power_mgmt(NvmeCtrl *ctrl, NvmeRequest *req,
                                    const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = feat->power_mgmt;
    return NVME_OK;
}

/* base 5.27.1.4: we have the composite temperature only; 1111b is "all" */
static uint16_t nvme_check_temp_select(NvmeRequest *req, uint32_t dw11)
{
    uint8_t tmpsel = FIELD_EX32(dw11, NVME_TEMP_DW11, TMPSEL);
    uint8_t thsel = FIELD_EX32(dw11, NVME_TEMP_DW11, THSEL);

    if (tmpsel != NVME_TMPSEL_COMPOSITE && tmpsel != NVME_TMPSEL_ALL) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 16));
    }
    if (thsel != NVME_THSEL_OVER && thsel != NVME_THSEL_UNDER) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 20));
    }
    return NVME_OK;
}

static uint16_t nvme_set_temp_threshold(NvmeCtrl *ctrl, NvmeRequest *req,
                                        uint32_t dw11)
{
    uint16_t tmpth = FIELD_EX32(dw11, NVME_TEMP_DW11, TMPTH);
    uint16_t status = nvme_check_temp_select(req, dw11);

    if (status) {
        return status;
    }
    if (FIELD_EX32(dw11, NVME_TEMP_DW11, THSEL) == NVME_THSEL_OVER) {
        ctrl->features.temp_over = tmpth;
    } else {
        ctrl->features.temp_under = tmpth;
    }
    nvme_smart_check_temperature(ctrl);
    return NVME_OK;
}

static uint16_t nvme_get_temp_threshold(NvmeCtrl *ctrl, NvmeRequest *req,
                                        const NvmeFeatures *feat, uint32_t dw11)
{
    uint16_t status = nvme_check_temp_select(req, dw11);
    bool over = FIELD_EX32(dw11, NVME_TEMP_DW11, THSEL) == NVME_THSEL_OVER;

    if (status) {
        return status;
    }
    req->dw0 = FIELD_DP32(dw11 & (R_NVME_TEMP_DW11_TMPSEL_MASK |
                                  R_NVME_TEMP_DW11_THSEL_MASK),
                          NVME_TEMP_DW11, TMPTH,
                          over ? feat->temp_over : feat->temp_under);
    return NVME_OK;
}

/* base 5.27.1.6: DULBE needs NSFEAT bit 2, which our namespaces do not set */
static uint16_t nvme_set_err_rec(NvmeCtrl *ctrl, NvmeRequest *req,
                                 uint32_t dw11)
{
    if (FIELD_EX32(dw11, NVME_ERR_REC_DW11, DULBE)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 16));
    }
    ctrl->features.err_rec = dw11 & R_NVME_ERR_REC_DW11_TLER_MASK;
    return NVME_OK;
}

static uint16_t nvme_get_err_rec(NvmeCtrl *ctrl, NvmeRequest *req,
                                 const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = feat->err_rec;
    return NVME_OK;
}

/*
 * The write cache is a promise of one controller to its host: with it off,
 * every write through that controller is durable when it completes (nvme-io.c
 * adds FUA). The backend's cache is shared by every controller of a shared
 * namespace and stays as the drive was configured, so that no host can take
 * another's durability away.
 */
void nvme_apply_vwc(NvmeCtrl *ctrl, bool enable)
{
    ctrl->features.vwc = enable;
}

/* base 5.27.1.5 */
static uint16_t nvme_set_vwc(NvmeCtrl *ctrl, NvmeRequest *req, uint32_t dw11)
{
    nvme_apply_vwc(ctrl, FIELD_EX32(dw11, NVME_VWC_DW11, WCE));
    return NVME_OK;
}

static uint16_t nvme_get_vwc(NvmeCtrl *ctrl, NvmeRequest *req,
                             const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = FIELD_DP32(0, NVME_VWC_DW11, WCE, feat->vwc);
    return NVME_OK;
}

static uint32_t nvme_num_queues_dw0(const NvmeFeatures *feat)
{
    uint32_t dw0 = FIELD_DP32(0, NVME_NUM_Q, NSQ, feat->nsqa);

    return FIELD_DP32(dw0, NVME_NUM_Q, NCQ, feat->ncqa);
}

static bool nvme_io_queues_exist(NvmeCtrl *ctrl)
{
    for (unsigned qid = 1; qid <= ctrl->params.max_ioqpairs; qid++) {
        if (ctrl->sq[qid] || ctrl->cq[qid]) {
            return true;
        }
    }
    return false;
}

/*
 * base 5.27.1.7: counts are 0's based, FFFFh is invalid, and we grant up
 * to max_ioqpairs. The spec allows the command once after a reset, before
 * any I/O queue exists; we accept it again as long as none exists.
 */
static uint16_t nvme_set_num_queues(NvmeCtrl *ctrl, NvmeRequest *req,
                                    uint32_t dw11)
{
    uint16_t nsqr = FIELD_EX32(dw11, NVME_NUM_Q, NSQ);
    uint16_t ncqr = FIELD_EX32(dw11, NVME_NUM_Q, NCQ);
    uint16_t max = ctrl->params.max_ioqpairs - 1;

    if (nsqr == UINT16_MAX) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
    }
    if (ncqr == UINT16_MAX) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 16));
    }
    if (nvme_io_queues_exist(ctrl)) {
        return nvme_adm_error(req, NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE,
                              NVME_ERR_LOC_NONE);
    }
    ctrl->features.nsqa = MIN(nsqr, max);
    ctrl->features.ncqa = MIN(ncqr, max);
    req->dw0 = nvme_num_queues_dw0(&ctrl->features);
    return NVME_OK;
}

static uint16_t nvme_get_num_queues(NvmeCtrl *ctrl, NvmeRequest *req,
                                    const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = nvme_num_queues_dw0(feat);
    return NVME_OK;
}

/* base 5.27.1.8: kept and reported; completions are not delayed */
static uint16_t nvme_set_irq_coalescing(NvmeCtrl *ctrl, NvmeRequest *req,
                                        uint32_t dw11)
{
    ctrl->features.irq_coalescing = dw11 & (R_NVME_IRQ_COAL_THR_MASK |
                                            R_NVME_IRQ_COAL_TIME_MASK);
    return NVME_OK;
}

static uint16_t nvme_get_irq_coalescing(NvmeCtrl *ctrl, NvmeRequest *req,
                                        const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = feat->irq_coalescing;
    return NVME_OK;
}

/* base 5.27.1.9: IV names one of our MSI-X vectors */
static uint16_t nvme_check_irq_vector(NvmeCtrl *ctrl, NvmeRequest *req,
                                      uint32_t dw11)
{
    if (FIELD_EX32(dw11, NVME_IRQ_CFG_DW11, IV) >= ctrl->params.msix_qsize) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 0));
    }
    return NVME_OK;
}

static uint16_t nvme_set_irq_config(NvmeCtrl *ctrl, NvmeRequest *req,
                                    uint32_t dw11)
{
    uint16_t iv = FIELD_EX32(dw11, NVME_IRQ_CFG_DW11, IV);
    uint16_t status = nvme_check_irq_vector(ctrl, req, dw11);

    if (status) {
        return status;
    }
    if (FIELD_EX32(dw11, NVME_IRQ_CFG_DW11, CD)) {
        set_bit(iv, ctrl->features.irq_coalesce_off);
    } else {
        clear_bit(iv, ctrl->features.irq_coalesce_off);
    }
    return NVME_OK;
}

static uint16_t nvme_get_irq_config(NvmeCtrl *ctrl, NvmeRequest *req,
                                    const NvmeFeatures *feat, uint32_t dw11)
{
    uint16_t iv = FIELD_EX32(dw11, NVME_IRQ_CFG_DW11, IV);
    uint16_t status = nvme_check_irq_vector(ctrl, req, dw11);
    bool off;

    if (status) {
        return status;
    }
    /* vector 0 serves the admin CQ, which is never coalesced (5.27.1.8) */
    off = iv == 0 ||
          (feat->irq_coalesce_off && test_bit(iv, feat->irq_coalesce_off));
    req->dw0 = FIELD_DP32(0, NVME_IRQ_CFG_DW11, IV, iv);
    req->dw0 = FIELD_DP32(req->dw0, NVME_IRQ_CFG_DW11, CD, off);
    return NVME_OK;
}

/* base 5.27.1.10: AWUN is 0, so DN changes nothing we do; kept */
static uint16_t nvme_set_write_atomicity(NvmeCtrl *ctrl, NvmeRequest *req,
                                         uint32_t dw11)
{
    ctrl->features.write_atomicity = dw11 & R_NVME_WRITE_ATOMICITY_DN_MASK;
    return NVME_OK;
}

static uint16_t nvme_get_write_atomicity(NvmeCtrl *ctrl, NvmeRequest *req,
                                         const NvmeFeatures *feat,
                                         uint32_t dw11)
{
    req->dw0 = feat->write_atomicity;
    return NVME_OK;
}

/* base 5.27.1.11: bits for events we cannot raise are reserved: dropped */
static uint16_t nvme_set_async_config(NvmeCtrl *ctrl, NvmeRequest *req,
                                      uint32_t dw11)
{
    ctrl->features.async_config = dw11 & NVME_AEC_SUPPORTED;
    nvme_smart_check_temperature(ctrl);
    return NVME_OK;
}

static uint16_t nvme_get_async_config(NvmeCtrl *ctrl, NvmeRequest *req,
                                      const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = feat->async_config;
    return NVME_OK;
}

/* base 5.27.1.12: the host's milliseconds, counted on in virtual time */
static uint16_t nvme_set_timestamp(NvmeCtrl *ctrl, NvmeRequest *req,
                                   uint32_t dw11)
{
    uint64_t data;
    uint16_t status = nvme_copy_from_host(ctrl, req, &data, sizeof(data));

    if (status) {
        return status;
    }
    ctrl->features.timestamp_ms = FIELD_EX64(le64_to_cpu(data), NVME_TIMESTAMP,
                                             TS);
    ctrl->features.timestamp_set_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    ctrl->features.timestamp_by_host = true;
    return NVME_OK;
}

static uint16_t nvme_get_timestamp(NvmeCtrl *ctrl, NvmeRequest *req,
                                   const NvmeFeatures *feat, uint32_t dw11)
{
    int64_t elapsed = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) -
                      feat->timestamp_set_ns;
    uint64_t value = 0;

    /* the clock never stops while we run: Synch stays 0 */
    value = FIELD_DP64(value, NVME_TIMESTAMP, TS,
                       feat->timestamp_ms + MAX(elapsed, 0) / SCALE_MS);
    value = FIELD_DP64(value, NVME_TIMESTAMP, TO,
                       feat->timestamp_by_host ? NVME_TIMESTAMP_ORIGIN_HOST :
                                                 NVME_TIMESTAMP_ORIGIN_RESET);
    value = cpu_to_le64(value);
    return nvme_copy_to_host(ctrl, req, &value, sizeof(value));
}

/*
 * base 5.27.1.18: ACRE, ETDAS and LBAFEE are each 0 or 1; kept as given
 * (we never ask for a command retry delay, CRDT is 0)
 */
static uint16_t nvme_set_host_behavior(NvmeCtrl *ctrl, NvmeRequest *req,
                                       uint32_t dw11)
{
    NvmeHostBehavior hb;
    uint16_t status = nvme_copy_from_host(ctrl, req, &hb, sizeof(hb));

    if (status) {
        return status;
    }
    if (hb.acre > 1 || hb.etdas > 1 || hb.lbafee > 1) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    ctrl->features.host_behavior = hb;
    return NVME_OK;
}

static uint16_t nvme_get_host_behavior(NvmeCtrl *ctrl, NvmeRequest *req,
                                       const NvmeFeatures *feat, uint32_t dw11)
{
    return nvme_copy_to_host(ctrl, req, &feat->host_behavior,
                             sizeof(feat->host_behavior));
}

/* base 5.27.1.21: Identify CNS 1Ch lists combination 0 (NVM) only */
static uint16_t nvme_set_iocs_profile(NvmeCtrl *ctrl, NvmeRequest *req,
                                      uint32_t dw11)
{
    if (FIELD_EX32(dw11, NVME_IOCS_PROFILE, IOCSCI) != 0) {
        return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                              NVME_SC_IOCS_COMBINATION_REJECTED,
                              NVME_ERR_LOC(cdw11, 0));
    }
    return NVME_OK;
}

static uint16_t nvme_get_iocs_profile(NvmeCtrl *ctrl, NvmeRequest *req,
                                      const NvmeFeatures *feat, uint32_t dw11)
{
    req->dw0 = 0;
    return NVME_OK;
}

#define NVME_FEAT(fid, caps, name) \
    [fid] = { NVME_FEAT_CAP_CHANGEABLE | (caps), nvme_set_##name, \
              nvme_get_##name }

/*
 * Nothing is saveable (ONCS bit 4 is 0); Error Recovery is per namespace
 * in the spec, though we keep one value for all of them.
 */
static const NvmeFeatDesc nvme_feats[256] = {
    NVME_FEAT(NVME_FEAT_ARBITRATION, 0, arbitration),
    NVME_FEAT(NVME_FEAT_POWER_MGMT, 0, power_mgmt),
    NVME_FEAT(NVME_FEAT_TEMP_THRESHOLD, 0, temp_threshold),
    NVME_FEAT(NVME_FEAT_ERROR_RECOVERY, NVME_FEAT_CAP_NS, err_rec),
    NVME_FEAT(NVME_FEAT_VOLATILE_WC, 0, vwc),
    NVME_FEAT(NVME_FEAT_NUM_QUEUES, 0, num_queues),
    NVME_FEAT(NVME_FEAT_IRQ_COALESCING, 0, irq_coalescing),
    NVME_FEAT(NVME_FEAT_IRQ_CONFIG, 0, irq_config),
    NVME_FEAT(NVME_FEAT_WRITE_ATOMICITY, 0, write_atomicity),
    NVME_FEAT(NVME_FEAT_ASYNC_EVENT_CFG, 0, async_config),
    NVME_FEAT(NVME_FEAT_TIMESTAMP, 0, timestamp),
    NVME_FEAT(NVME_FEAT_HOST_BEHAVIOR, 0, host_behavior),
    NVME_FEAT(NVME_FEAT_IO_CMD_SET_PROFILE, 0, iocs_profile),
    /* nvme-resv.c */
    NVME_FEAT(NVME_FEAT_HOST_ID, 0, host_id),
    NVME_FEAT(NVME_FEAT_RESV_MASK, NVME_FEAT_CAP_NS, resv_mask),
    NVME_FEAT(NVME_FEAT_RESV_PERSIST, NVME_FEAT_CAP_NS, resv_persist),
};

/*
 * NSID 0h and FFFFFFFFh address the controller. Another NSID is an error
 * for Set Features of a controller-wide feature (Feature Not Namespace
 * Specific) and ignored by Get Features; a namespace feature needs an
 * active namespace (base 3.2.1.5).
 */
static uint16_t nvme_feat_check_nsid(NvmeCtrl *ctrl, NvmeRequest *req,
                                     const NvmeFeatDesc *feat, bool set)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    if (nsid == 0 || nsid == NVME_NSID_BROADCAST) {
        return NVME_OK;
    }
    if (!(feat->caps & NVME_FEAT_CAP_NS)) {
        return set ? nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                                    NVME_SC_FEAT_NOT_NS_SPECIFIC,
                                    NVME_ERR_LOC(nsid, 0))
                   : NVME_OK;
    }
    if (nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    if (!nvme_ctrl_ns(ctrl, nsid)) {
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    return NVME_OK;
}

uint16_t nvme_admin_set_features(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint8_t fid = FIELD_EX32(dw10, NVME_FEAT_DW10, FID);
    const NvmeFeatDesc *feat = &nvme_feats[fid];
    uint16_t status;

    trace_pci_nvme_adm_set_features(nvme_cid(req), fid, dw11);
    if (!feat->set) {
        trace_pci_nvme_err_adm_feature(fid);
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    if (FIELD_EX32(dw10, NVME_FEAT_DW10, SV)) {
        return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC,
                              NVME_SC_FEAT_NOT_SAVEABLE,
                              NVME_ERR_LOC(cdw10, 31));
    }
    status = nvme_feat_check_nsid(ctrl, req, feat, true);
    if (status) {
        return status;
    }
    return feat->set(ctrl, req, dw11);
}

/* SEL: with nothing saveable, "saved" reads the default (base 5.15.1) */
uint16_t nvme_admin_get_features(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint8_t fid = FIELD_EX32(dw10, NVME_FEAT_DW10, FID);
    uint8_t sel = FIELD_EX32(dw10, NVME_FEAT_DW10, SEL);
    const NvmeFeatDesc *feat = &nvme_feats[fid];
    NvmeFeatures defaults;
    uint16_t status;

    trace_pci_nvme_adm_get_features(nvme_cid(req), fid, sel, dw11);
    if (!feat->get) {
        trace_pci_nvme_err_adm_feature(fid);
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
    status = nvme_feat_check_nsid(ctrl, req, feat, false);
    if (status) {
        return status;
    }
    switch (sel) {
    case NVME_SEL_CURRENT:
        return feat->get(ctrl, req, &ctrl->features, dw11);
    case NVME_SEL_DEFAULT:
    case NVME_SEL_SAVED:
        nvme_features_defaults(ctrl, &defaults);
        return feat->get(ctrl, req, &defaults, dw11);
    case NVME_SEL_SUPPORTED_CAPS:
        req->dw0 = feat->caps;
        return NVME_OK;
    default:
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 8));
    }
}
