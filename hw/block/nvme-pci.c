/*
 * NVMe controller: the PCI function. BAR0 registers (base 3.1) and their
 * effects (CC: enable, reset, shutdown), the device's properties, realize
 * and unrealize, PCI reset. Doorbells, queues and requests are nvme.c's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qemu/cutils.h"
#include "qapi/visitor.h"
#include "qapi/error.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_port.h"
#include "hw/pci/pci_bridge.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "system/xen.h"
#include "nvme.h"
#include "nvme-fault.h"
#include "trace.h"

/* ---- controller enable and shutdown -------------------------------------- */

/* base 3.5.1: CC.EN 0 -> 1; a bad admin queue setup is a fatal status */
void nvme_ctrl_start(NvmeCtrl *ctrl)
{
    uint32_t mps = FIELD_EX32(ctrl->cc, NVME_CC, MPS);
    uint32_t css = FIELD_EX32(ctrl->cc, NVME_CC, CSS);
    uint32_t asqs = FIELD_EX32(ctrl->aqa, NVME_AQA, ASQS) + 1;
    uint32_t acqs = FIELD_EX32(ctrl->aqa, NVME_AQA, ACQS) + 1;
    uint32_t page_size = 1u << (12 + mps);
    const char *why = NULL;

    if (mps < FIELD_EX64(ctrl->cap, NVME_CAP, MPSMIN) ||
        mps > FIELD_EX64(ctrl->cap, NVME_CAP, MPSMAX)) {
        why = "CC.MPS outside CAP.MPSMIN..MPSMAX";
    } else if (css != NVME_CC_CSS_NVM && css != NVME_CC_CSS_IOCS) {
        why = "CC.CSS selects a command set we do not support";
    } else if (asqs < 2 || acqs < 2) {
        why = "AQA: admin queues need at least two entries";
    } else if (!ctrl->asq || !ctrl->acq ||
               ((ctrl->asq | ctrl->acq) & (page_size - 1))) {
        why = "ASQ/ACQ must be non-zero and page aligned";
    } else if (!nvme_addr_is_ram(ctrl, ctrl->asq, asqs * NVME_SQE_SIZE,
                                 false) ||
               !nvme_addr_is_ram(ctrl, ctrl->acq, acqs * NVME_CQE_SIZE,
                                 true)) {
        why = "ASQ/ACQ are not in guest RAM";
    }
    if (why) {
        nvme_fatal(ctrl, why);
        return;
    }
    ctrl->page_size = page_size;
    ctrl->page_bits = 12 + mps;
    nvme_cq_create(ctrl, NVME_ADMIN_QID, ctrl->acq, acqs, 0, true);
    nvme_sq_create(ctrl, NVME_ADMIN_QID, NVME_ADMIN_QID, ctrl->asq, asqs, 0);
    ctrl->shutdown_clean = false;
    /* NSSRO stays until the host clears it */
    ctrl->csts = FIELD_DP32(ctrl->csts & R_NVME_CSTS_NSSRO_MASK, NVME_CSTS,
                            RDY, 1);
    trace_pci_nvme_ctrl_ready(page_size);
}

/* One flush of a shutdown: not a command, but AIO the controller waits for */
typedef struct NvmeShutdownFlush {
    NvmeCtrl        *ctrl;
    NvmeNamespace   *ns;
} NvmeShutdownFlush;

static void nvme_shutdown_flush_done(NvmeCtrl *ctrl)
{
    if (--ctrl->shutdown_flushes == 0 &&
        FIELD_EX32(ctrl->cc, NVME_CC, SHN) != NVME_SHN_NONE) {
        ctrl->shutdown_clean = true;
        ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST,
                                NVME_SHST_COMPLETE);
    }
}

static void nvme_shutdown_flush_cb(void *opaque, int ret)
{
    NvmeShutdownFlush *flush = opaque;
    NvmeCtrl *ctrl = flush->ctrl;

    ctrl->nr_aio--;
    flush->ns->nr_aio--;
    g_free(flush);
    nvme_shutdown_flush_done(ctrl);
    nvme_teardown_kick(ctrl, NULL);
}

/*
 * base 3.6.1: normal or abrupt shutdown: flush what the write caches hold
 * (asynchronously: SHST says "occurring" until the flushes are done).
 */
static void nvme_ctrl_shutdown(NvmeCtrl *ctrl)
{
    if (ctrl->shutdown_flushes) {
        return;                         /* one is under way */
    }
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_OCCURRING);
    if (!nvme_in_owner(ctrl)) {
        /* iothread=: the flushes start there (their AIO completes there) */
        qemu_bh_schedule(ctrl->shutdown_bh);
        return;
    }
    ctrl->shutdown_flushes = 1;         /* held until every flush started */
    for (unsigned nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = ctrl->namespaces[nsid];
        NvmeShutdownFlush *flush;

        if (!ns) {
            continue;
        }
        flush = g_new(NvmeShutdownFlush, 1);
        flush->ctrl = ctrl;
        flush->ns = ns;
        ctrl->nr_aio++;
        ns->nr_aio++;
        ctrl->shutdown_flushes++;
        blk_aio_flush(nvme_ns_blk(ns), nvme_shutdown_flush_cb, flush);
    }
    nvme_shutdown_flush_done(ctrl);
}

/* iothread=: a shutdown a vCPU asked for, in the iothread */
static void nvme_shutdown_bh(void *opaque)
{
    NvmeCtrl *ctrl = opaque;

    /* not in a reset: it waits for no flush started after it began */
    if (FIELD_EX32(ctrl->cc, NVME_CC, SHN) != NVME_SHN_NONE &&
        !ctrl->resetting) {
        nvme_ctrl_shutdown(ctrl);
    }
}

static void nvme_write_cc(NvmeCtrl *ctrl, uint32_t value)
{
    bool was_enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);
    bool enable = FIELD_EX32(value, NVME_CC, EN);
    uint32_t shn = FIELD_EX32(value, NVME_CC, SHN);

    if (was_enabled && enable) {
        /* only SHN may change while enabled (base 3.1.4.5) */
        value = FIELD_DP32(ctrl->cc, NVME_CC, SHN, shn);
    }
    ctrl->cc = value;
    if (was_enabled && !enable) {
        nvme_ctrl_reset_begin(ctrl);
    }
    if (!was_enabled && enable) {
        if (ctrl->resetting) {
            /*
             * base 3.5.1: the host should have waited for RDY to clear;
             * the reset's end starts the controller
             */
            nvme_guest_error(ctrl, "CC.EN set while CSTS.RDY is still 1");
        } else {
            nvme_ctrl_start(ctrl);
        }
    }
    if (shn != NVME_SHN_NONE) {
        nvme_ctrl_shutdown(ctrl);
    } else {
        ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_NORMAL);
    }
}

static uint32_t nvme_reg_read32(NvmeCtrl *ctrl, hwaddr offset)
{
    switch (offset) {
    case A_NVME_CAP:        return ctrl->cap;
    case A_NVME_CAP + 4:    return ctrl->cap >> 32;
    case A_NVME_VS:         return ctrl->vs;
    case A_NVME_INTMS:
    case A_NVME_INTMC:      return ctrl->intms;
    case A_NVME_CC:         return ctrl->cc;
    case A_NVME_CSTS:       return ctrl->csts;
    case A_NVME_AQA:        return ctrl->aqa;
    case A_NVME_ASQ:        return ctrl->asq;
    case A_NVME_ASQ + 4:    return ctrl->asq >> 32;
    case A_NVME_ACQ:        return ctrl->acq;
    case A_NVME_ACQ + 4:    return ctrl->acq >> 32;
    default:                return 0;   /* reserved, NSSR, CMB, doorbells */
    }
}

static uint64_t nvme_bar_read_owned(NvmeCtrl *ctrl, hwaddr offset,
                                    unsigned size)
{
    uint64_t value;

    nvme_doorbell_deliver(ctrl);        /* in the order the host wrote */
    if (unlikely(ctrl->removed)) {
        return size == 8 ? UINT64_MAX : UINT32_MAX;     /* nobody answers */
    }
    if (offset & (size - 1)) {
        nvme_guest_error(ctrl, "unaligned register read at 0x%" HWADDR_PRIx,
                         offset);
        return 0;
    }
    value = nvme_reg_read32(ctrl, offset);
    if (size == 8) {
        value |= (uint64_t)nvme_reg_read32(ctrl, offset + 4) << 32;
    }
    trace_pci_nvme_mmio_read(offset, size, value);
    return value;
}

static uint64_t nvme_bar_read(void *opaque, hwaddr offset, unsigned size)
{
    NvmeCtrl *ctrl = opaque;
    uint64_t value;

    nvme_subsys_pause(ctrl->subsys);
    value = nvme_bar_read_owned(ctrl, offset, size);
    nvme_subsys_resume(ctrl->subsys);
    return value;
}

static void nvme_reg_write32(NvmeCtrl *ctrl, hwaddr offset, uint32_t value)
{
    bool enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);
    bool msix = msix_enabled(PCI_DEVICE(ctrl));

    switch (offset) {
    case A_NVME_INTMS:
    case A_NVME_INTMC:
        if (msix) {
            /* base 3.1.4.3: undefined while MSI-X is in use */
            nvme_guest_error(ctrl, "INTMS/INTMC written with MSI-X enabled");
            return;
        }
        ctrl->intms = offset == A_NVME_INTMS ? ctrl->intms | value
                                             : ctrl->intms & ~value;
        nvme_irq_update_pin(ctrl);
        return;
    case A_NVME_CC:
        nvme_write_cc(ctrl, value);
        return;
    case A_NVME_CSTS:
        /* base 3.1.4.6: NSSRO is write-1-to-clear, the rest read-only */
        ctrl->csts &= ~(value & R_NVME_CSTS_NSSRO_MASK);
        return;
    case A_NVME_NSSR:
        /* base 3.1.4.7: "NVMe" resets the subsystem; other values do not */
        if (value == NVME_NSSR_RESET) {
            nvme_subsys_reset(ctrl->subsys, "NSSR");
        }
        return;
    case A_NVME_AQA:
    case A_NVME_ASQ:
    case A_NVME_ASQ + 4:
    case A_NVME_ACQ:
    case A_NVME_ACQ + 4:
        if (enabled) {
            nvme_guest_error(ctrl,
                             "admin queue registers written while enabled");
            return;
        }
        if (offset == A_NVME_AQA) {
            ctrl->aqa = value & (R_NVME_AQA_ASQS_MASK | R_NVME_AQA_ACQS_MASK);
        } else {
            uint64_t *reg = offset < A_NVME_ACQ ? &ctrl->asq : &ctrl->acq;
            bool high = offset & 4;
            *reg = high ? deposit64(*reg, 32, 32, value)
                        : deposit64(*reg, 0, 32, value);
        }
        return;
    default:
        /* read-only or reserved registers */
        nvme_guest_error(ctrl, "write to read-only/reserved register 0x%"
                         HWADDR_PRIx, offset);
        return;
    }
}

static void nvme_bar_write_owned(NvmeCtrl *ctrl, hwaddr offset,
                                 uint64_t value, unsigned size)
{
    nvme_doorbell_deliver(ctrl);        /* in the order the host wrote */
    trace_pci_nvme_mmio_write(offset, size, value);
    if (unlikely(ctrl->removed)) {
        return;
    }
    if (offset & (size - 1)) {
        nvme_guest_error(ctrl, "unaligned register write at 0x%" HWADDR_PRIx,
                         offset);
        return;
    }
    if (offset >= NVME_REG_SIZE) {
        nvme_doorbell_write(ctrl, offset - NVME_REG_SIZE, value);
        return;
    }
    nvme_reg_write32(ctrl, offset, value);
    if (size == 8) {
        nvme_reg_write32(ctrl, offset + 4, value >> 32);
    }
}

static void nvme_bar_write(void *opaque, hwaddr offset, uint64_t value,
                           unsigned size)
{
    NvmeCtrl *ctrl = opaque;

    /* iothread=: a doorbell is handed over, the vCPU does not wait */
    if (offset >= NVME_REG_SIZE && size == 4 && nvme_threaded(ctrl) &&
        nvme_doorbell_post(ctrl, offset - NVME_REG_SIZE, value)) {
        trace_pci_nvme_mmio_write(offset, size, value);
        return;
    }
    nvme_subsys_pause(ctrl->subsys);
    nvme_bar_write_owned(ctrl, offset, value, size);
    nvme_subsys_resume(ctrl->subsys);
}

/* Registers are 32 or 64 bits wide; narrower accesses are not valid. */
static const MemoryRegionOps nvme_bar_ops = {
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
    .endianness = DEVICE_LITTLE_ENDIAN,
    .read = nvme_bar_read,
    .write = nvme_bar_write,
};

/* ---- device life cycle --------------------------------------------------- */

static bool nvme_check_params(NvmeCtrl *ctrl, Error **errp)
{
    NvmeParams *p = &ctrl->params;

    if (!p->serial) {
        error_setg(errp, "nvme: 'serial' is required (up to 20 characters)");
        return false;
    }
    if (strlen(p->serial) > 20) {
        error_setg(errp, "nvme: 'serial' is longer than 20 characters");
        return false;
    }
    if (p->model && strlen(p->model) > 40) {
        error_setg(errp, "nvme: 'model' is longer than 40 characters");
        return false;
    }
    if (p->max_ioqpairs < 1 || p->max_ioqpairs > NVME_MAX_IOQPAIRS) {
        error_setg(errp, "nvme: 'max_ioqpairs' must be between 1 and %d",
                   NVME_MAX_IOQPAIRS);
        return false;
    }
    if (p->msix_qsize < 1 || p->msix_qsize > PCI_MSIX_FLAGS_QSIZE + 1) {
        error_setg(errp, "nvme: 'msix_qsize' must be between 1 and %d",
                   PCI_MSIX_FLAGS_QSIZE + 1);
        return false;
    }
    if (p->mqes < 1 || p->mqes >= NVME_MAX_QUEUE_ENTRIES) {
        error_setg(errp, "nvme: 'mqes' must be between 1 and %d",
                   NVME_MAX_QUEUE_ENTRIES - 1);
        return false;
    }
    if (p->mdts > 20) {
        error_setg(errp, "nvme: 'mdts' must be between 0 (no limit) and 20");
        return false;
    }
    if (ctrl->iothread && p->ioeventfd) {
        error_setg(errp, "nvme: 'ioeventfd' and 'iothread' do not go "
                   "together: with an iothread, doorbell writes already "
                   "reach it without the main loop");
        return false;
    }
    if (ctrl->iothread &&
        (pci_device_iommu_address_space(PCI_DEVICE(ctrl)) !=
         &address_space_memory || xen_enabled())) {
        error_setg(errp, "nvme: 'iothread' is not supported behind a "
                   "virtual IOMMU, nor with Xen");
        return false;
    }
    return true;
}

static void nvme_init_regs(NvmeCtrl *ctrl)
{
    uint64_t cap = 0;

    cap = FIELD_DP64(cap, NVME_CAP, MQES, ctrl->params.mqes);
    cap = FIELD_DP64(cap, NVME_CAP, CQR, 1);
    cap = FIELD_DP64(cap, NVME_CAP, TO, 0xf);          /* 7.5 s */
    cap = FIELD_DP64(cap, NVME_CAP, DSTRD, 0);
    cap = FIELD_DP64(cap, NVME_CAP, NSSRS, 1);
    cap = FIELD_DP64(cap, NVME_CAP, CSS, NVME_CAP_CSS_NVM | NVME_CAP_CSS_IOCS);
    cap = FIELD_DP64(cap, NVME_CAP, MPSMIN, 0);        /* 4 KiB */
    cap = FIELD_DP64(cap, NVME_CAP, MPSMAX, 4);        /* 64 KiB */
    ctrl->cap = cap;
    /* base 5.17.2.2: MDTS is a power of two of CAP.MPSMIN pages; 0: none */
    ctrl->mdts_bytes = ctrl->params.mdts ?
        UINT64_C(1) << (12 + ctrl->params.mdts) : UINT64_MAX;
    ctrl->vs = NVME_VERSION(2, 0, 0);
    ctrl->page_size = 4096;
    ctrl->page_bits = 12;
}

static bool nvme_init_pci(NvmeCtrl *ctrl, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(ctrl);
    uint8_t *conf = pci->config;
    uint64_t bar_size;
    unsigned max_db = 2 * (ctrl->params.max_ioqpairs + 1) * 4;

    pci_config_set_prog_interface(conf, 0x2);          /* NVM Express */
    pci_config_set_class(conf, PCI_CLASS_STORAGE_EXPRESS);
    pci_config_set_vendor_id(conf, ctrl->params.use_intel_id ?
                             PCI_VENDOR_ID_INTEL : PCI_VENDOR_ID_REDHAT);
    pci_config_set_device_id(conf, ctrl->params.use_intel_id ?
                             0x5845 : PCI_DEVICE_ID_REDHAT_NVME);
    conf[PCI_INTERRUPT_PIN] = 1;
    pcie_endpoint_cap_init(pci, 0x80);

    /* BAR0: registers, doorbells; MSI-X table and PBA in BAR4 */
    bar_size = pow2ceil(NVME_REG_SIZE + max_db);
    memory_region_init_io(&ctrl->iomem, OBJECT(ctrl), &nvme_bar_ops, ctrl,
                          "nvme", bar_size);
    pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &ctrl->iomem);
    if (msix_init_exclusive_bar(pci, ctrl->params.msix_qsize, 4, errp)) {
        return false;
    }
    for (unsigned v = 0; v < ctrl->params.msix_qsize; v++) {
        msix_vector_use(pci, v);
    }
    return true;
}

/* rerror/werror=stop: requests wait for the VM to run again */
static void nvme_vm_state_change(void *opaque, bool running, RunState state)
{
    NvmeCtrl *ctrl = opaque;

    if (!running) {
        return;
    }
    nvme_subsys_pause(ctrl->subsys);
    if (ctrl->nr_stopped) {
        qemu_bh_schedule(ctrl->retry_bh);
    }
    nvme_subsys_resume(ctrl->subsys);
}

/* The subsystem we made for ourselves, if any, goes again */
static void nvme_drop_own_subsys(NvmeCtrl *ctrl)
{
    if (ctrl->own_subsys) {
        object_unparent(OBJECT(ctrl->subsys));
        ctrl->subsys = NULL;
        ctrl->own_subsys = false;
    }
}

/*
 * Without subsys= a controller is a subsystem of its own (NQN from serial).
 * The subsystem's context is fixed, or checked, here (iothread=).
 */
static bool nvme_pick_subsys(NvmeCtrl *ctrl, Error **errp)
{
    AioContext *ctx = ctrl->iothread ?
                      iothread_get_aio_context(ctrl->iothread) : NULL;

    if (!ctrl->subsys) {
        ctrl->subsys = nvme_subsys_new_implicit(ctrl->params.serial, errp);
        if (!ctrl->subsys) {
            return false;
        }
        ctrl->own_subsys = true;
    }
    if (!nvme_subsys_set_ctx(ctrl->subsys, ctx, errp)) {
        nvme_drop_own_subsys(ctrl);
        return false;
    }
    return true;
}

/* Join the subsystem picked; with the subsystem paused (iothread=) */
static bool nvme_join_subsys(NvmeCtrl *ctrl, Error **errp)
{
    NvmeSubsystem *subsys = ctrl->subsys;
    const char *model = ctrl->params.model ?: NVME_MODEL_DEFAULT;

    /* Every controller of a subsystem reports the same model (base 2.4). */
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        NvmeCtrl *other = subsys->ctrls[i];
        if (other && strcmp(other->params.model ?: NVME_MODEL_DEFAULT, model)) {
            error_setg(errp, "nvme: 'model' \"%s\" differs from \"%s\" of "
                       "another controller in subsystem '%s': controllers of "
                       "a subsystem have one model", model,
                       other->params.model ?: NVME_MODEL_DEFAULT,
                       subsys->subnqn);
            return false;
        }
    }
    if (!nvme_subsys_add_ctrl(subsys, ctrl, errp)) {
        return false;
    }
    pstrcpy(ctrl->subnqn, sizeof(ctrl->subnqn), subsys->subnqn);
    return true;
}

/* drive= gives the controller one namespace, NSID 1, as QEMU users know */
static bool nvme_add_drive_ns(NvmeCtrl *ctrl, Error **errp)
{
    DeviceState *dev = qdev_new(TYPE_NVME_NS);
    NvmeNamespace *ns = NVME_NS(dev);
    bool ok;

    ns->blkconf = ctrl->drive_conf;
    ns->borrowed_blk = true;            /* attached to the controller */
    ns->nsid = 1;
    ok = qdev_realize(dev, BUS(&ctrl->bus), errp);
    if (ok) {
        ctrl->drive_ns = ns;
    } else {
        /*
         * the drive stays the controller's: the namespace must not detach
         * it when it goes, nor linger on the bus until the controller does
         */
        ns->blkconf.blk = NULL;
        object_unparent(OBJECT(dev));
    }
    object_unref(OBJECT(dev));
    return ok;
}

static void nvme_exit(PCIDevice *pci)
{
    NvmeCtrl *ctrl = NVME(pci);

    /* its namespaces are gone already (child bus first); wait for the rest */
    nvme_ctrl_reset_sync(ctrl);
    msix_uninit_exclusive_bar(pci);
    if (ctrl->vm_state) {
        qemu_del_vm_change_state_handler(ctrl->vm_state);
        ctrl->vm_state = NULL;
    }
    /* nothing of the controller may run in the iothread after this */
    nvme_subsys_pause(ctrl->subsys);
    nvme_fault_ctrl_gone(ctrl);
    nvme_subsys_remove_ctrl(ctrl->subsys, ctrl);
    nvme_lifecycle_exit(ctrl);
    g_clear_pointer(&ctrl->shutdown_bh, qemu_bh_delete);
    nvme_subsys_resume(ctrl->subsys);
    nvme_drop_own_subsys(ctrl);
    g_clear_pointer(&ctrl->sq, g_free);
    g_clear_pointer(&ctrl->cq, g_free);
    g_clear_pointer(&ctrl->features.irq_coalesce_off, g_free);
}

/*
 * The controller is whole before it joins its subsystem: from then on an
 * iothread (iothread=) may reach it through its siblings.
 */
static void nvme_realize(PCIDevice *pci, Error **errp)
{
    NvmeCtrl *ctrl = NVME(pci);
    bool joined;

    if (!nvme_check_params(ctrl, errp)) {
        return;
    }
    qbus_init(&ctrl->bus, sizeof(NvmeBus), TYPE_NVME_BUS, DEVICE(ctrl),
              DEVICE(ctrl)->id);
    nvme_init_regs(ctrl);
    if (!nvme_init_pci(ctrl, errp)) {
        return;
    }
    if (!nvme_pick_subsys(ctrl, errp)) {
        msix_uninit_exclusive_bar(pci);
        return;
    }
    ctrl->sq = g_new0(NvmeSQueue *, ctrl->params.max_ioqpairs + 1);
    ctrl->cq = g_new0(NvmeCQueue *, ctrl->params.max_ioqpairs + 1);
    QSIMPLEQ_INIT(&ctrl->events);
    nvme_lifecycle_init(ctrl);
    ctrl->shutdown_bh = aio_bh_new(nvme_ctx(ctrl), nvme_shutdown_bh, ctrl);
    ctrl->smart.power_on_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    ctrl->smart.power_cycles = 1;

    nvme_subsys_pause(ctrl->subsys);
    joined = nvme_join_subsys(ctrl, errp);
    if (joined) {
        nvme_admin_init_ctrl(ctrl);
    } else {
        nvme_lifecycle_exit(ctrl);
        g_clear_pointer(&ctrl->shutdown_bh, qemu_bh_delete);
    }
    nvme_subsys_resume(ctrl->subsys);
    if (!joined) {
        nvme_subsys_unfix_ctx(ctrl->subsys);
        nvme_drop_own_subsys(ctrl);
        g_clear_pointer(&ctrl->sq, g_free);
        g_clear_pointer(&ctrl->cq, g_free);
        msix_uninit_exclusive_bar(pci);
        return;
    }
    if (ctrl->drive_conf.blk) {
        if (!nvme_add_drive_ns(ctrl, errp)) {
            nvme_exit(pci);
            return;
        }
        nvme_subsys_pause(ctrl->subsys);
        nvme_admin_drive_added(ctrl);
        nvme_subsys_resume(ctrl->subsys);
    }
    ctrl->vm_state = qemu_add_vm_change_state_handler(nvme_vm_state_change,
                                                      ctrl);
}

/*
 * base 3.7.1: an NVM Subsystem Reset resets this controller as at power-on
 * (registers to their defaults: the host enables it again from scratch),
 * without the PCI function's own reset, and sets CSTS.NSSRO. Commands in
 * flight end as in a controller reset; RDY clears when their AIO is over.
 */
void nvme_ctrl_subsystem_reset(NvmeCtrl *ctrl)
{
    bool enabled = FIELD_EX32(ctrl->cc, NVME_CC, EN);

    ctrl->cc = 0;
    ctrl->aqa = 0;
    ctrl->asq = ctrl->acq = 0;
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, SHST, NVME_SHST_NORMAL);
    ctrl->csts = FIELD_DP32(ctrl->csts, NVME_CSTS, NSSRO, 1);
    if (enabled) {
        nvme_ctrl_reset_begin_deferred(ctrl);
    }
}

/* Device reset, and power loss at a surprise removal: AIO waited for */
static void nvme_pci_reset(DeviceState *dev)
{
    NvmeCtrl *ctrl = NVME(dev);

    nvme_subsys_pause(ctrl->subsys);
    if (!ctrl->shutdown_clean && FIELD_EX32(ctrl->cc, NVME_CC, EN)) {
        ctrl->smart.unsafe_shutdowns++;
    }
    nvme_subsys_resume(ctrl->subsys);
    nvme_ctrl_reset_sync(ctrl);
    nvme_subsys_pause(ctrl->subsys);
    ctrl->cc = 0;
    ctrl->aqa = 0;
    ctrl->asq = ctrl->acq = 0;
    nvme_subsys_resume(ctrl->subsys);
}

/* Is a function of this slot's adapter out (a surprise removal)? */
static void nvme_slot_fn_removed(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_NVME) && NVME(dev)->removed) {
        *(bool *)opaque = true;
    }
}

/*
 * A surprise removal (nvme-fault-inject surprise-removal): the function
 * leaves without warning, as a pulled drive or a lost link, and later comes
 * back. Gone, it answers nothing (configuration and register reads return
 * all ones, writes are dropped), masters nothing (no DMA, no MSI/MSI-X
 * message, as with Bus Master Enable clear) and loses its state as at
 * power loss: commands in flight end without completions, and their AIO
 * is over before the monitor command returns, so no data lands in guest
 * memory the host may already reuse. Back, it is as at power-on, to be
 * configured again. A hotplug-capable PCIe slot tells the OS both ways
 * (presence and link down, then up; one adapter per slot: out while any
 * of its functions is); elsewhere the OS finds the function gone when it
 * next looks, and back only if it scans the bus again. Called from the
 * monitor and the fault's timer, never from our own BHs or AIO callbacks.
 */
void nvme_ctrl_set_present(NvmeCtrl *ctrl, bool present)
{
    PCIDevice *pci = PCI_DEVICE(ctrl);
    PCIDevice *port = pci_bridge_get_device(pci_get_bus(pci));

    if (!present) {
        ctrl->removed = true;
        memory_region_set_enabled(&pci->bus_master_enable_region, false);
        pci_irq_deassert(pci);
        /* as at power loss: the controller's reset, waiting for its AIO */
        nvme_pci_reset(DEVICE(ctrl));
        ctrl->csts = 0;
    } else {
        /* power-on: PCI configuration (BME clear) and controller afresh */
        pci_device_reset(pci);
        ctrl->csts = 0;
        ctrl->smart.power_cycles++;
        ctrl->removed = false;
    }
    if (port && object_dynamic_cast(OBJECT(port), TYPE_PCIE_SLOT)) {
        bool out = false;

        pci_for_each_device_under_bus(pci_get_bus(pci), nvme_slot_fn_removed,
                                      &out);
        pcie_cap_slot_change_presence(port, !out);
    }
}

/* Configuration space: nothing answers while the function is removed */
static uint32_t nvme_config_read(PCIDevice *pci, uint32_t addr, int len)
{
    if (NVME(pci)->removed) {
        return UINT32_MAX;
    }
    return pci_default_read_config(pci, addr, len);
}

static void nvme_config_write(PCIDevice *pci, uint32_t addr, uint32_t val,
                              int len)
{
    if (!NVME(pci)->removed) {
        pci_default_write_config(pci, addr, val, len);
    }
}

static const Property nvme_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeCtrl, drive_conf),
    DEFINE_BLOCK_ERROR_PROPERTIES(NvmeCtrl, drive_conf),
    DEFINE_PROP_LINK("subsys", NvmeCtrl, subsys, TYPE_NVME_SUBSYS,
                     NvmeSubsystem *),
    DEFINE_PROP_LINK("iothread", NvmeCtrl, iothread, TYPE_IOTHREAD,
                     IOThread *),
    DEFINE_PROP_STRING("serial", NvmeCtrl, params.serial),
    DEFINE_PROP_STRING("model", NvmeCtrl, params.model),
    DEFINE_PROP_UINT32("max_ioqpairs", NvmeCtrl, params.max_ioqpairs, 64),
    DEFINE_PROP_UINT16("msix_qsize", NvmeCtrl, params.msix_qsize, 65),
    DEFINE_PROP_UINT8("mdts", NvmeCtrl, params.mdts, 7),
    DEFINE_PROP_UINT32("mqes", NvmeCtrl, params.mqes,
                       NVME_MAX_QUEUE_ENTRIES - 1),
    DEFINE_PROP_BOOL("ioeventfd", NvmeCtrl, params.ioeventfd, false),
    DEFINE_PROP_BOOL("sgl", NvmeCtrl, params.sgl, true),
    DEFINE_PROP_BOOL("use-intel-id", NvmeCtrl, params.use_intel_id, false),
};

/* Live migration of queues and in-flight requests is not implemented. */
static const VMStateDescription nvme_vmstate = {
    .name = "nvme",
    .unmigratable = 1,
};

static void nvme_get_temperature(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    NvmeCtrl *ctrl = NVME(obj);

    visit_type_uint16(v, name, &ctrl->params.temperature, errp);
}

/* Settable at run time, so tests can cross the thresholds (SMART events). */
static void nvme_set_temperature(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    NvmeCtrl *ctrl = NVME(obj);
    uint16_t kelvin;

    if (!visit_type_uint16(v, name, &kelvin, errp)) {
        return;
    }
    if (!DEVICE(obj)->realized) {
        ctrl->params.temperature = kelvin;
        return;
    }
    nvme_subsys_pause(ctrl->subsys);
    ctrl->params.temperature = kelvin;
    nvme_smart_check_temperature(ctrl);
    nvme_subsys_resume(ctrl->subsys);
}

static void nvme_instance_init(Object *obj)
{
    NVME(obj)->params.temperature = NVME_DEFAULT_TEMP_K;
}

static void nvme_class_init(ObjectClass *oc, void *data)
{
    PCIDeviceClass *pci_class = PCI_DEVICE_CLASS(oc);
    DeviceClass *dc = DEVICE_CLASS(oc);

    pci_class->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pci_class->revision = 2;
    pci_class->realize = nvme_realize;
    pci_class->exit = nvme_exit;
    pci_class->config_read = nvme_config_read;
    pci_class->config_write = nvme_config_write;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "NVM Express controller (with nvme-subsys: shared "
               "namespaces, multipath, ANA)";
    dc->vmsd = &nvme_vmstate;
    device_class_set_props(dc, nvme_props);
    device_class_set_legacy_reset(dc, nvme_pci_reset);
    object_class_property_set_description(oc, "serial",
        "Serial Number (SN) in Identify Controller; required, up to 20 chars");
    object_class_property_set_description(oc, "subsys",
        "The nvme-subsys this controller belongs to (default: a subsystem of "
        "its own, NQN " NVME_NQN_PREFIX "<serial>)");
    object_class_property_set_description(oc, "iothread",
        "Run the queues, their AIO and the subsystem's state in this "
        "iothread; every controller of a subsystem names the same one");
    object_class_property_set_description(oc, "model",
        "Model Number (MN); default \"" NVME_MODEL_DEFAULT "\"");
    object_class_property_set_description(oc, "max_ioqpairs",
        "I/O submission/completion queue pairs the host may create (1-256)");
    object_class_property_set_description(oc, "msix_qsize",
        "MSI-X vectors (table size); I/O CQs may use vectors below this");
    object_class_property_set_description(oc, "mdts",
        "Maximum Data Transfer Size, as a power of two of 4 KiB pages "
        "(0: no limit)");
    object_class_property_set_description(oc, "mqes",
        "CAP.MQES: largest queue size, 0's based (1-2047)");
    object_class_property_set_description(oc, "ioeventfd",
        "Doorbells of I/O queues signal an eventfd when shadow doorbells "
        "(Doorbell Buffer Config) are in use");
    object_class_property_set_description(oc, "sgl",
        "Offer Scatter Gather Lists for I/O commands (Identify SGLS)");
    object_class_property_set_description(oc, "use-intel-id",
        "Use Intel's PCI vendor/device id instead of Red Hat's 1b36:0010");
    object_class_property_add(oc, "smart-temperature", "uint16",
                              nvme_get_temperature, nvme_set_temperature,
                              NULL, NULL);
    object_class_property_set_description(oc, "smart-temperature",
        "Composite temperature in kelvin reported in the SMART log; may be "
        "changed at run time (qom-set) to cross thresholds");
}

static const TypeInfo nvme_types[] = {
    {
        .name = TYPE_NVME,
        .parent = TYPE_PCI_DEVICE,
        .class_init = nvme_class_init,
        .interfaces = (InterfaceInfo[]) { { INTERFACE_PCIE_DEVICE }, { } },
        .instance_size = sizeof(NvmeCtrl),
        .instance_init = nvme_instance_init,
    },
    {
        .name = TYPE_NVME_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(NvmeBus),
    },
};

DEFINE_TYPES(nvme_types)
