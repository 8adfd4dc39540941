// USB ID entries (include/linux/mod_devicetable.h struct usb_device_id and the USB_DEVICE_ID_MATCH_*
// flags). kbind models only their alias side (scripts/mod/file2alias.c do_usb_entry_multi, in
// src/model/file2alias.ts); USB devices and usb_match_id() are not modelled.

export const USB_DEVICE_ID_MATCH_VENDOR = 0x0001;
export const USB_DEVICE_ID_MATCH_PRODUCT = 0x0002;
export const USB_DEVICE_ID_MATCH_DEV_LO = 0x0004;
export const USB_DEVICE_ID_MATCH_DEV_HI = 0x0008;
export const USB_DEVICE_ID_MATCH_DEV_CLASS = 0x0010;
export const USB_DEVICE_ID_MATCH_DEV_SUBCLASS = 0x0020;
export const USB_DEVICE_ID_MATCH_DEV_PROTOCOL = 0x0040;
export const USB_DEVICE_ID_MATCH_INT_CLASS = 0x0080;
export const USB_DEVICE_ID_MATCH_INT_SUBCLASS = 0x0100;
export const USB_DEVICE_ID_MATCH_INT_PROTOCOL = 0x0200;
export const USB_DEVICE_ID_MATCH_INT_NUMBER = 0x0400;

/** struct usb_device_id (without driver_info). u16 fields except the u8 class/protocol/number ones. */
export interface UsbDeviceId {
  matchFlags: number;
  idVendor: number;
  idProduct: number;
  bcdDeviceLo: number;
  bcdDeviceHi: number;
  bDeviceClass: number;
  bDeviceSubClass: number;
  bDeviceProtocol: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  bInterfaceNumber: number;
}
