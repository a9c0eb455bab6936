/** The languages of the board, notification texts and CSV headers (config gateway.locale). */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
