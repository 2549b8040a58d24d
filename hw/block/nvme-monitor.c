/*
 * NVM Subsystem Reset from the monitor (QMP nvme-subsys-reset, HMP
 * nvme_subsys_reset): what an array's power cycle does to its hosts. The
 * reset itself is nvme_subsys_reset() in nvme-subsys.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "nvme.h"

/* QMP nvme-subsys-reset <id>: a controller (its subsystem) or a subsystem */
void qmp_nvme_subsys_reset(const char *id, Error **errp)
{
    NvmeCtrl *ctrl;
    NvmeSubsystem *subsys = nvme_subsys_resolve(id, &ctrl, errp);

    if (subsys) {
        nvme_subsys_pause(subsys);
        nvme_subsys_reset(subsys, "monitor");
        nvme_subsys_resume(subsys);
    }
}

/* HMP nvme_subsys_reset <id> */
void hmp_nvme_subsys_reset(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_nvme_subsys_reset(qdict_get_str(qdict, "id"), &err);
    hmp_handle_error(mon, err);
}
