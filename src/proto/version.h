/* The versions pidvisor claims on the wire: supervisord's (getSupervisorVersion, `version`)
 * and its XML-RPC API's (getAPIVersion), which clients compare against. */
#ifndef PIDVISOR_PROTO_VERSION_H
#define PIDVISOR_PROTO_VERSION_H

#define SUPERVISOR_VERSION     "4.2.5"
#define SUPERVISOR_API_VERSION "3.0"

#endif
