/*
 * The NVMe fault and event injection commands in a build without the NVMe
 * device (CONFIG_NVME_PCI off): QMP and HMP still know them and say so.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"

NvmeFaultInfo *qmp_nvme_fault_inject(const char *id, NvmeFaultKind kind,
                                     bool has_nsid, uint32_t nsid,
                                     bool has_status, uint16_t status,
                                     bool has_dnr, bool dnr,
                                     bool has_slba, uint64_t slba,
                                     bool has_nlb, uint64_t nlb,
                                     bool has_latency_ms, uint32_t latency_ms,
                                     bool has_jitter_ms, uint32_t jitter_ms,
                                     bool has_warning, NvmeSmartWarning warning,
                                     bool has_count, uint32_t count,
                                     bool has_duration_ms,
                                     uint32_t duration_ms, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
    return NULL;
}

void qmp_nvme_fault_remove(uint32_t fault, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

NvmeFaultInfoList *qmp_query_nvme_faults(Error **errp)
{
    return NULL;
}

void hmp_nvme_fault_inject(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}

void hmp_nvme_fault_remove(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}

void hmp_info_nvme_faults(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}

void qmp_nvme_event_inject(const char *id, NvmeNoticeEvent event,
                           bool has_nsid, uint32_t nsid, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

void hmp_nvme_event_inject(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}
