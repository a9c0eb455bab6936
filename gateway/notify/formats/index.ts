import type { NotifyChannelConfig } from '../../../config/schema.ts';
import type { NotificationMessage } from '../message.ts';
import { dingtalkMessage } from './dingtalk.ts';
import { jsonMessage } from './json.ts';
import { slackMessage } from './slack.ts';
import { teamsMessage } from './teams.ts';
import { wecomMessage } from './wecom.ts';

/** The request body for each `notify.<channel>.format`: pure functions of the message. */
export const FORMATS: Record<NotifyChannelConfig['format'], (m: NotificationMessage) => unknown> = {
  json: jsonMessage,
  wecom: wecomMessage,
  dingtalk: dingtalkMessage,
  slack: slackMessage,
  teams: teamsMessage,
};
