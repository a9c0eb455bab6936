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
  /**
   * In-process only, never on the wire: a number its producer gives each distinct tag (the same number for
   * the same tag, a different one for another: replay's reading thread numbers them). The asset index keeps
   * the tag's row at this index instead of looking the tag up by name among all the tags it knows.
   */
  tagSlot?: number;
}
