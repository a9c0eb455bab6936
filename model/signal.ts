/** A reading or event from a source (contracts §Signal). */
export interface Signal {
  source: string;
  tag: string;
  value: number | boolean | string | null;
  quality: 'good' | 'uncertain' | 'bad';
  /** Source timestamp, epoch ms. */
  ts: number;
  asset?: string;
  severity?: number;
  message?: string;
  /** Engineering unit of the value (`V`), from the connector's tag config or the HTTP body. */
  unit?: string;
}
