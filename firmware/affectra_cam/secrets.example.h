/*
 * Copy this file to secrets.h (same folder) and fill in your network.
 * secrets.h is git-ignored: never commit real credentials.
 */
#ifndef AFFECTRA_SECRETS_H
#define AFFECTRA_SECRETS_H

#define AFX_WIFI_SSID "your-network"
#define AFX_WIFI_PASSWORD "your-password"

/* Optional: any setting of config.h can be overridden here, e.g. one name per camera. */
/* #define AFX_HOSTNAME "affectra-cam-door2" */

#endif /* AFFECTRA_SECRETS_H */
