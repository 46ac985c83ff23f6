// ESP32-DevKitC (ESP32-WROOM-32, no PSRAM) with the micropos firmware frozen in.
#define MICROPY_HW_BOARD_NAME "ESP32-DevKitC micropos"
#define MICROPY_HW_MCU_NAME "ESP32"
