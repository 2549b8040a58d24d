/*
 * The NVMe monitor commands of ANA and subsystem reset in a build without
 * the NVMe device (CONFIG_NVME_PCI off): QMP and HMP still know them and
 * say so. nvme-fault-stub.c does the same for fault injection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"

void qmp_nvme_ana_set_state(const char *id, uint32_t grpid,
                            NvmeAnaAccessState state, bool has_transition_ms,
                            uint32_t transition_ms, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

void qmp_nvme_subsys_reset(const char *id, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

NvmeAnaSubsystemInfoList *qmp_query_nvme_ana(Error **errp)
{
    return NULL;
}

void hmp_nvme_ana_inject_state(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}

void hmp_nvme_subsys_reset(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}

void hmp_info_nvme_ana(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "this QEMU has no NVMe device\n");
}
