/*
 * mhealth: "vigil-manager [-c FILE] health [--json]", seed 001's checklist
 * as a Nagios plugin: the manager process (manager.json's pid), both
 * listeners (by connecting to them), the database (a write), the CA and
 * server certificates (expiry), free disk space of the state directory.
 * Runs beside the daemon, from the same configuration file.
 */
#ifndef VIGIL_MHEALTH_H
#define VIGIL_MHEALTH_H

#include "config.h"
#include "nagios.h"

/* Fills r with every check. */
void mhealth_run(const struct mgr_config *cfg, struct nagios_report *r);

#endif
