import path from 'path';

/**
 * The hub's own SOAP services (CONTRACTS.md, "The hub's own SOAP services"): their WSDLs
 * (in this folder; the build copies them beside the compiled code) and the paths the hub
 * serves them on.
 */
export interface HubSoapService {
  service: string;
  wsdl: string;
  path: string;
  operation: string;
}

const folder = __dirname;

export const contactEventService: HubSoapService = {
  service: 'ContactEventService',
  wsdl: path.join(folder, 'ContactEventService.wsdl'),
  path: '/soap/contact-events',
  operation: 'NotifyContactEvent',
};

export const repairNotificationService: HubSoapService = {
  service: 'RepairNotificationService',
  wsdl: path.join(folder, 'RepairNotificationService.wsdl'),
  path: '/soap/repair-notifications',
  operation: 'NotifyRepairStatus',
};

export const hubSoapServices: HubSoapService[] = [contactEventService, repairNotificationService];
