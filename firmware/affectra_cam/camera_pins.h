/*
 * GPIO map of the AI-Thinker ESP32-CAM (OV2640 camera, 4 MB PSRAM).
 * -1 means the line is not wired to a GPIO.
 */
#ifndef AFFECTRA_CAMERA_PINS_H
#define AFFECTRA_CAMERA_PINS_H

#define CAM_PIN_PWDN 32
#define CAM_PIN_RESET -1
#define CAM_PIN_XCLK 0
#define CAM_PIN_SIOD 26 /* SCCB (I2C) data */
#define CAM_PIN_SIOC 27 /* SCCB (I2C) clock */

#define CAM_PIN_D7 35 /* Y9 */
#define CAM_PIN_D6 34 /* Y8 */
#define CAM_PIN_D5 39 /* Y7 */
#define CAM_PIN_D4 36 /* Y6 */
#define CAM_PIN_D3 21 /* Y5 */
#define CAM_PIN_D2 19 /* Y4 */
#define CAM_PIN_D1 18 /* Y3 */
#define CAM_PIN_D0 5  /* Y2 */
#define CAM_PIN_VSYNC 25
#define CAM_PIN_HREF 23
#define CAM_PIN_PCLK 22

#define CAM_PIN_FLASH_LED 4 /* the bright white LED; kept off */

#endif /* AFFECTRA_CAMERA_PINS_H */
